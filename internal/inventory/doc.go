// Package inventory builds the DPO's documents from plain inputs: the
// record of processing activities (GDPR Art. 30(1)), the data map, the DPIA
// worksheet (Art. 35) and the breach report (Art. 33), and renders them as
// JSON, CSV, Markdown and PDF.
//
// It does no I/O of its own: the service layer reads the live configuration
// (purposes, channel providers, tenant profile, retention policies, keys)
// and hands it over as an Input, so every rule here is a pure function that
// a table test can pin down. Because the same inputs always give the same
// bytes, a record carries a digest of its content, and a change of
// configuration shows up as a new digest and a new version.
package inventory
