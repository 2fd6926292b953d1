package ledger

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

var testContext = ReceiptContext{
	Jurisdiction: "DK",
	Language:     "da",
	Controllers: []PIIController{{
		Name: "Acme ApS", Contact: "Databeskyttelsesrådgiver", Email: "dpo@acme.example",
		Address: "Vesterbrogade 1, 1620 København V", URL: "https://acme.example",
	}},
	PolicyURL:       "https://acme.example/privatliv?v=3",
	Service:         "SMS-nyhedsbrev",
	PurposeCategory: []string{"marketing"},
	ConsentType:     "EXPLICIT",
	PIICategory:     []string{"telefonnummer"},
	PrimaryPurpose:  true,
	Termination:     "Svar STOP for at afmelde",
}

// testReceipt builds a 50-leaf log and returns the receipt for leaf index.
func testReceipt(t testing.TB, index int64) (Receipt, *Log, *Signer) {
	t.Helper()
	l, _, s := buildLog(t, 50, 8, 20)
	r, err := l.Receipt(context.Background(), index, testContext, s)
	if err != nil {
		t.Fatal(err)
	}
	return r, l, s
}

func TestReceiptVerifiesOffline(t *testing.T) {
	l, _, s := buildLog(t, 50, 8, 20)
	for _, i := range []int64{0, 1, 17, 31, 49} {
		r, err := l.Receipt(context.Background(), i, testContext, s)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyReceipt(r, s.VerifierKey()); err != nil {
			t.Fatalf("leaf %d: %v", i, err)
		}
		data, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseReceipt(data)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, r) {
			t.Fatalf("leaf %d: JSON round trip changed the receipt", i)
		}
		if err := VerifyReceipt(back, s.VerifierKey()); err != nil {
			t.Fatalf("leaf %d after JSON: %v", i, err)
		}
		leaf := testLeaf(int(i))
		if r.ConsentReceiptID != leaf.EventID || r.PIIPrincipalID != leaf.Contact ||
			r.Event.Status != leaf.Status || r.Services[0].Purposes[0].Purpose != leaf.Purpose {
			t.Fatalf("leaf %d: receipt fields %+v do not reflect the leaf", i, r)
		}
	}
}

func TestReceiptWrongKey(t *testing.T) {
	r, _, _ := testReceipt(t, 3)
	_, sameOrigin, _ := GenerateKey(testOrigin)
	_, otherOrigin, _ := GenerateKey("other.example/ledger")
	for _, key := range []string{sameOrigin, otherOrigin, "garbage"} {
		if err := VerifyReceipt(r, key); !errors.Is(err, ErrBadReceipt) {
			t.Errorf("VerifyReceipt with %q = %v", key, err)
		}
	}
}

func TestReceiptNeedsCheckpoint(t *testing.T) {
	ctx := context.Background()
	l, _, s := buildLog(t, 5, 5, 0)
	if _, err := l.Append(ctx, encodedLeaves(5, 6)...); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Receipt(ctx, 5, testContext, s); !errors.Is(err, ErrNotCheckpointed) {
		t.Fatalf("Receipt for an uncheckpointed leaf = %v", err)
	}
	empty := NewLog(NewMemStorage())
	if _, err := empty.Receipt(ctx, 0, testContext, s); !errors.Is(err, ErrNotCheckpointed) {
		t.Fatalf("Receipt on an empty log = %v", err)
	}
	bad := testContext
	bad.Termination = "line\nbreak"
	if _, err := l.Receipt(ctx, 1, bad, s); err == nil {
		t.Fatal("receipt with a control character in a field")
	}
}

// TestReceiptStatementSurvivesNewCheckpoints shows a receipt can be re-proved
// against a later checkpoint: the signed statement does not change.
func TestReceiptStatementSurvivesNewCheckpoints(t *testing.T) {
	ctx := context.Background()
	r1, l, s := testReceipt(t, 7)
	if _, err := l.Append(ctx, encodedLeaves(50, 90)...); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Checkpoint(ctx, s, testEpoch.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	r2, err := l.Receipt(ctx, 7, testContext, s)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Proof.TreeSize != 90 || r2.Proof.StatementSignature != r1.Proof.StatementSignature {
		t.Fatalf("re-proved receipt: size %d, statement changed: %v", r2.Proof.TreeSize,
			r2.Proof.StatementSignature != r1.Proof.StatementSignature)
	}
	if err := VerifyReceipt(r2, s.VerifierKey()); err != nil {
		t.Fatal(err)
	}
}

// TestReceiptDetectsEveryFieldChange changes, one at a time, every value in
// the receipt's JSON (and adds or drops array elements) and requires that
// parsing or verification fails.
func TestReceiptDetectsEveryFieldChange(t *testing.T) {
	r, _, s := testReceipt(t, 22)
	data, _ := json.Marshal(r)
	var doc any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	count := 0
	for path, mutated := range jsonMutations(doc, "") {
		count++
		b, _ := json.Marshal(mutated)
		got, err := ParseReceipt(b)
		if err != nil {
			continue
		}
		if err := VerifyReceipt(got, s.VerifierKey()); err == nil {
			t.Errorf("%s changed, receipt still verifies", path)
		}
	}
	if count < 40 {
		t.Fatalf("only %d mutations generated", count)
	}
}

// jsonMutations yields (path, document) pairs, each document differing from
// doc in exactly one place.
func jsonMutations(doc any, path string) func(func(string, any) bool) {
	return func(yield func(string, any) bool) {
		switch v := doc.(type) {
		case map[string]any:
			for k, child := range v {
				for p, m := range jsonMutations(child, path+"."+k) {
					c := copyMap(v)
					c[k] = m
					if !yield(p, c) {
						return
					}
				}
			}
		case []any:
			if len(v) > 0 {
				if !yield(path+"[+dup]", append(append([]any{}, v...), v[0])) || !yield(path+"[-last]", v[:len(v)-1]) {
					return
				}
			}
			for i, child := range v {
				for p, m := range jsonMutations(child, fmt.Sprintf("%s[%d]", path, i)) {
					c := append([]any{}, v...)
					c[i] = m
					if !yield(p, c) {
						return
					}
				}
			}
		case string:
			_ = yield(path, v+"x") && (v == "" || yield(path+"(case)", flipCase(v)))
		case json.Number:
			n, _ := strconv.ParseInt(string(v), 10, 64)
			yield(path, json.Number(strconv.FormatInt(n+1, 10)))
		case bool:
			yield(path, !v)
		case nil:
			yield(path, "x")
		}
	}
}

func copyMap(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// flipCase changes the case of the first letter, or appends one if none.
func flipCase(s string) string {
	for i, r := range s {
		if u := strings.ToUpper(string(r)); u != string(r) {
			return s[:i] + u + s[i+len(string(r)):]
		}
		if l := strings.ToLower(string(r)); l != string(r) {
			return s[:i] + l + s[i+len(string(r)):]
		}
	}
	return s + "a"
}

// TestReceiptDetectsEveryProofBitFlip flips one bit in every byte of the
// leaf, every inclusion hash, the statement signature and the checkpoint.
func TestReceiptDetectsEveryProofBitFlip(t *testing.T) {
	r, _, s := testReceipt(t, 22)
	rng := rand.New(rand.NewPCG(7, 8))
	type target struct {
		name string
		get  func(*Receipt) *string
		b64  bool
	}
	targets := []target{
		{"leaf", func(r *Receipt) *string { return &r.Proof.Leaf }, true},
		{"statementSignature", func(r *Receipt) *string { return &r.Proof.StatementSignature }, true},
		{"checkpoint", func(r *Receipt) *string { return &r.Proof.Checkpoint }, false},
	}
	for i := range r.Proof.Inclusion {
		targets = append(targets, target{fmt.Sprintf("inclusion[%d]", i), func(r *Receipt) *string { return &r.Proof.Inclusion[i] }, true})
	}
	for _, tg := range targets {
		raw := []byte(*tg.get(&r))
		if tg.b64 {
			raw, _ = base64.StdEncoding.DecodeString(*tg.get(&r))
		}
		for pos := range raw {
			bad := bytes.Clone(raw)
			bad[pos] ^= 1 << rng.IntN(8)
			c := r
			c.Proof.Inclusion = append([]string(nil), r.Proof.Inclusion...)
			if tg.b64 {
				*tg.get(&c) = base64.StdEncoding.EncodeToString(bad)
			} else {
				*tg.get(&c) = string(bad)
			}
			if err := VerifyReceipt(c, s.VerifierKey()); err == nil {
				t.Fatalf("%s byte %d flipped, receipt still verifies", tg.name, pos)
			}
		}
	}
}

func TestReceiptErrorsNameTheCheck(t *testing.T) {
	r, _, s := testReceipt(t, 22)
	cases := []struct {
		edit func(*Receipt)
		want string
	}{
		{func(r *Receipt) { r.Proof.Inclusion[0] = r.Proof.Inclusion[1] }, "leaf 22: inclusion proof does not lead to the root of size 50"},
		{func(r *Receipt) { r.Proof.TreeSize = 49 }, "treeSize 49, but the checkpoint signs size 50"},
		{func(r *Receipt) { r.Proof.LeafIndex = 23 }, "leaf 23: inclusion proof does not lead"},
		{func(r *Receipt) { r.CollectionMethod = "web" }, `leaf 22: field collectionMethod is "web" but the leaf says "api"`},
		{func(r *Receipt) { r.Event.NoticeVersion = 9 }, `leaf 22: field event.noticeVersion is "9" but the leaf says "3"`},
		{func(r *Receipt) { r.PolicyURL += "#x" }, "statement signature (context fields altered?)"},
		{func(r *Receipt) { r.Proof.Checkpoint = strings.Replace(r.Proof.Checkpoint, "\n50\n", "\n51\n", 1) }, "checkpoint: "},
	}
	for _, c := range cases {
		bad := r
		bad.Proof.Inclusion = append([]string(nil), r.Proof.Inclusion...)
		c.edit(&bad)
		err := VerifyReceipt(bad, s.VerifierKey())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("VerifyReceipt = %v\nwant it to contain %q", err, c.want)
		}
	}
}

func TestParseReceiptIsStrict(t *testing.T) {
	r, _, _ := testReceipt(t, 2)
	data, _ := json.Marshal(r)
	for name, in := range map[string][]byte{
		"unknown field": bytes.Replace(data, []byte(`{"version"`), []byte(`{"extra":1,"version"`), 1),
		"trailing data": append(bytes.Clone(data), []byte(` {}`)...),
		"not JSON":      []byte("version: 1"),
	} {
		if _, err := ParseReceipt(in); !errors.Is(err, ErrBadReceipt) {
			t.Errorf("%s: ParseReceipt = %v", name, err)
		}
	}
}
