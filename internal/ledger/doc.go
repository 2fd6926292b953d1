// Package ledger is consentgate's tamper-evident consent ledger.
//
// Every consent event (grant, withdrawal, objection, pending double opt-in,
// confirmation, erasure marker) is encoded as a [Leaf] and appended to an
// append-only Merkle tree in the style of RFC 6962 / RFC 9162. Hashing and
// proofs come from golang.org/x/mod/sumdb/tlog, so the tree is byte-for-byte
// compatible with Certificate Transparency and the Go checksum database:
// anyone can check a proof with a few lines of code in any language.
//
// The log operator periodically signs a checkpoint (a C2SP tlog-checkpoint
// signed note carrying origin, tree size and root hash). A [Receipt] bundles
// one event with its inclusion proof, a signed checkpoint and a signed
// statement of the receipt's human-readable context, so a data subject, a DPO
// or an authority can check it offline with nothing but the public key.
//
// The package is pure: it does no I/O of its own. Persistence sits behind the
// small [Storage] interface, which the SQLite and PostgreSQL stores implement;
// [MemStorage] is the in-memory implementation used by tests and benchmarks.
// [Verify] recomputes the whole tree from the stored leaves and checks every
// stored hash and checkpoint, which is what `consentgate verify` runs.
//
// Leaves hold no plaintext personal data: only ids, keys, a status, a time and
// a digest of the evidence. The evidence itself lives encrypted elsewhere, so
// erasure can destroy it while the tree still verifies. See docs/ledger.md.
package ledger
