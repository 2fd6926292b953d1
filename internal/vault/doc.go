// Package vault keeps personal data unreadable at rest. It implements
// envelope encryption (a data key per contact, wrapped by a tenant key,
// wrapped by the master key), field encryption with AES-256-GCM whose
// associated data binds tenant, contact and field (so a ciphertext moved to
// another row or column no longer opens), and the blind index (a keyed
// HMAC-SHA256 of a normalised identifier) that lets the store find a contact
// without holding the identifier in clear. Destroying a contact's wrapped
// data key makes its ciphertexts unreadable for good (crypto-shredding).
package vault
