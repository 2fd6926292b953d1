package audit

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func chain(n int) ([]*Event, Head) {
	var evs []*Event
	var prev []byte
	for i := 1; i <= n; i++ {
		e := &Event{Seq: int64(i * 10), ID: string(rune('a' + i)), TenantID: "t", At: time.Unix(int64(i), 0), ActorType: ActorKey,
			ActorID: "k", Role: "support", Action: ContactRead, ObjectType: "contact", ObjectID: "c", ContactID: "c",
			Fields: []string{"identifiers.phone"}, RequestID: "r", Result: OK}
		e.ChainPos = int64(i)
		e.ChainHash = Hash(prev, e.ChainPos, e)
		prev = e.ChainHash
		evs = append(evs, e)
	}
	return evs, Head{Pos: int64(n), Hash: prev}
}

func verify(evs []*Event, head Head) error {
	v := NewVerifier()
	for _, e := range evs {
		if err := v.Add(e); err != nil {
			return err
		}
	}
	_, err := v.Finish(head)
	return err
}

func TestVerify(t *testing.T) {
	evs, head := chain(5)
	if err := verify(evs, head); err != nil {
		t.Fatal(err)
	}
	for name, tamper := range map[string]func([]*Event) ([]*Event, Head){
		"field":  func(e []*Event) ([]*Event, Head) { e[2].Fields = nil; return e, head },
		"reason": func(e []*Event) ([]*Event, Head) { e[2].Reason = []byte("x"); return e, head },
		"time":   func(e []*Event) ([]*Event, Head) { e[1].At = e[1].At.Add(time.Microsecond); return e, head },
		"delete": func(e []*Event) ([]*Event, Head) { return append(e[:2:2], e[3:]...), head },
		"swap": func(e []*Event) ([]*Event, Head) {
			e[1], e[2] = e[2], e[1]
			e[1].ChainPos, e[2].ChainPos = 2, 3
			return e, head
		},
		"tail":    func(e []*Event) ([]*Event, Head) { return e[:4], head },
		"rewrite": func(e []*Event) ([]*Event, Head) { e[4].ChainHash = bytes.Repeat([]byte{1}, 32); return e, head },
	} {
		evs, head := chain(5)
		evs, head = tamper(evs)
		var br *Break
		if err := verify(evs, head); !errors.As(err, &br) {
			t.Errorf("%s: tampering not detected (%v)", name, err)
		}
	}
}

func TestHashCoversEveryField(t *testing.T) {
	evs, _ := chain(1)
	base := Hash(nil, 1, evs[0])
	// Moving a byte from one field to the next must change the hash: the
	// encoding is length-prefixed.
	e := *evs[0]
	e.ObjectType, e.ObjectID = "contac", "tc"
	if bytes.Equal(Hash(nil, 1, &e), base) {
		t.Error("field boundaries are not part of the hash")
	}
	if bytes.Equal(Hash(nil, 2, evs[0]), base) {
		t.Error("the position is not part of the hash")
	}
}
