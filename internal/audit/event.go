// Package audit is the audit trail's domain: the event every access to
// personal data leaves, the actions, and the hash chain that makes edits,
// deletions and reordering of stored events detectable. It does no I/O:
// the service writes events in the transaction of the access they record,
// a background chainer links them, and Verifier checks a chain read back.
package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"time"
)

// Event is one audit event. It holds ids and names only: never an
// identifier, a message text or a secret. The reason a caller gave (for a
// reveal) is stored sealed with the tenant's key, because free text may
// hold anything.
type Event struct {
	Seq        int64 // store order, set on insert
	ID         string
	TenantID   string // "" when no tenant is known (a failed authentication with an unknown key)
	At         time.Time
	ActorType  ActorType
	ActorID    string // key id, user id, or "" for an anonymous caller
	Role       string
	Action     Action
	ObjectType string
	ObjectID   string
	ContactID  string   // the data subject concerned, for "who looked at this person" queries
	Fields     []string // names of the fields read or changed, never their values
	Reason     []byte   // sealed reason (AES-GCM, tenant key); nil when none was given
	RequestID  string
	Result     Result

	// The chain: set by the chainer after commit, nil/0 until then.
	ChainPos  int64
	ChainHash []byte

	// Redacted events had their content removed when the tenant's audit
	// retention ended. ContentDigest, kept from before, stands in for the
	// content in the chain, so the chain still verifies without it.
	Redacted      bool
	ContentDigest []byte
}

// ActorType says what kind of principal acted.
type ActorType string

// The actor types.
const (
	ActorKey       ActorType = "key"
	ActorUser      ActorType = "user"
	ActorOperator  ActorType = "operator"  // the command line, run by whoever holds the data directory
	ActorAnonymous ActorType = "anonymous" // no valid credential
)

// Action names what was done. Actions are stable: they are part of the
// audit API and of exported evidence.
type Action string

// The actions.
const (
	ContactCreate Action = "contact.create"
	ContactRead   Action = "contact.read"   // identifiers masked
	ContactReveal Action = "contact.reveal" // identifiers in clear, with a reason
	ContactLookup Action = "contact.lookup" // search by identifier (masked answer)
	ConsentList   Action = "consent.list"
	ConsentChange Action = "consent.change"
	ReceiptRead   Action = "receipt.read"
	ReceiptList   Action = "receipt.list"
	KeyCreate     Action = "key.create"
	KeyList       Action = "key.list"
	KeyRevoke     Action = "key.revoke"
	UserCreate    Action = "user.create"
	UserList      Action = "user.list"
	UserDelete    Action = "user.delete"
	SessionCreate Action = "session.create" // a user signed in
	SessionList   Action = "session.list"
	SessionRevoke Action = "session.revoke" // signed out, or ended by someone who manages users
	AuditRead     Action = "audit.read"
	AuditExport   Action = "audit.export"
	AuthFailed    Action = "auth.failed"   // missing, unknown, expired or revoked credential
	AccessDenied  Action = "access.denied" // authenticated, but the role or scopes do not allow it
	// KeyringRotate: a step of a key rotation published a tenant keyring
	// (the field names the step).
	KeyringRotate Action = "keyring.rotate"
)

// Result is the outcome the event records.
type Result string

// The results.
const (
	OK       Result = "ok"
	Denied   Result = "denied"
	NotFound Result = "not_found" // a lookup that found no one: still a search for a person
)

// zeroHash links the first event of the chain.
var zeroHash [32]byte

// Hash returns the chain hash of e at position pos after the hash prev:
// SHA-256 over a domain tag, prev, pos and every stored field of e, each
// length-prefixed so that no two different events encode alike.
func Hash(prev []byte, pos int64, e *Event) []byte {
	if prev == nil {
		prev = zeroHash[:]
	}
	w := hashWriter{h: sha256.New()}
	w.h.Write([]byte("consentgate/audit-chain/v2\n"))
	w.bytes(prev)
	w.num(pos)
	w.num(e.Seq)
	w.str(e.ID)
	w.str(e.TenantID)
	w.num(e.At.UnixMicro())
	if e.Redacted {
		w.bytes(e.ContentDigest)
	} else {
		w.bytes(ContentDigest(e))
	}
	return w.h.Sum(nil)
}

// ContentDigest is the SHA-256 of what an event says (who, what, which
// object and fields, why, the result): the part retention may remove. The
// chain covers it through this digest, so an event can be redacted without
// breaking the chain, and changing a kept event still does.
func ContentDigest(e *Event) []byte {
	w := hashWriter{h: sha256.New()}
	w.h.Write([]byte("consentgate/audit-content/v1\n"))
	w.str(string(e.ActorType))
	w.str(e.ActorID)
	w.str(e.Role)
	w.str(string(e.Action))
	w.str(e.ObjectType)
	w.str(e.ObjectID)
	w.str(e.ContactID)
	w.num(int64(len(e.Fields)))
	for _, f := range e.Fields {
		w.str(f)
	}
	w.bytes(e.Reason)
	w.str(e.RequestID)
	w.str(string(e.Result))
	return w.h.Sum(nil)
}

// Redact removes an event's content, keeping its digest: what the retention
// purge does to audit events older than the tenant's period. Id, tenant,
// time and chain position stay, so the chain and the event count verify.
func Redact(e *Event) {
	if e.Redacted {
		return
	}
	e.ContentDigest = ContentDigest(e)
	e.ActorID, e.ObjectID, e.ContactID, e.RequestID = "", "", "", ""
	e.Fields, e.Reason = []string{}, nil
	e.Redacted = true
}

type hashWriter struct {
	h   hash.Hash
	buf [8]byte
}

func (w *hashWriter) num(v int64) {
	binary.BigEndian.PutUint64(w.buf[:], uint64(v))
	w.h.Write(w.buf[:])
}

func (w *hashWriter) bytes(b []byte) {
	w.num(int64(len(b)))
	w.h.Write(b)
}

func (w *hashWriter) str(s string) { w.bytes([]byte(s)) }
