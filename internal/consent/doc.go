// Package consent holds the words of the product and the decision rule:
// purposes, channels, lawful bases, consent states and the function that
// answers "may this tenant send this purpose on this channel to this person
// now?". It is pure: no database, no HTTP, no clock of its own, so the same
// rule holds in every store and on every node, and it can be tested and
// benchmarked without any I/O.
package consent
