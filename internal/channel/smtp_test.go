package channel

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// testCert makes a self-signed certificate for 127.0.0.1 and returns it
// with its PEM, which the adapter is told to trust (ca_pem).
func testCert(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test smtp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// mailbox is a real SMTP server (go-smtp) on 127.0.0.1 that keeps what it
// receives, and refuses recipients it is told to.
type mailbox struct {
	mu       sync.Mutex
	mails    []received
	user     string
	password string
	reject   map[string]*smtp.SMTPError
}

type received struct {
	from, to, data string
	tls, authed    bool
}

type session struct {
	mb     *mailbox
	conn   *smtp.Conn
	authed bool
	cur    received
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.mb.user || pass != s.mb.password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.cur.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if e := s.mb.reject[to]; e != nil {
		return e
	}
	s.cur.to = to
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, s.cur.tls = s.conn.TLSConnectionState()
	s.cur.data, s.cur.authed = string(b), s.authed
	s.mb.mu.Lock()
	s.mb.mails = append(s.mb.mails, s.cur)
	s.mb.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.cur = received{} }
func (s *session) Logout() error { return nil }

// startMailbox serves SMTP on 127.0.0.1: with STARTTLS, or with TLS from
// the first byte (implicit).
func startMailbox(t *testing.T, implicit bool, cert tls.Certificate) (*mailbox, int) {
	t.Helper()
	mb := &mailbox{user: "gateway", password: "s3cret", reject: map[string]*smtp.SMTPError{
		"gone@example.com": {Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"},
		"busy@example.com": {Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"},
	}}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{mb: mb, conn: c}, nil }))
	srv.Domain = "127.0.0.1"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	var ln net.Listener
	var err error
	if implicit {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", srv.TLSConfig)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return mb, ln.Addr().(*net.TCPAddr).Port
}

func TestSMTP(t *testing.T) {
	cert, caPEM := testCert(t)
	for _, mode := range []string{"starttls", "implicit"} {
		t.Run(mode, func(t *testing.T) {
			mb, port := startMailbox(t, mode == "implicit", cert)
			a, err := NewSMTP(SMTPSettings{Host: "127.0.0.1", Port: port, TLS: mode, Username: "gateway", CAPEM: caPEM, TimeoutSeconds: 5}, "s3cret")
			if err != nil {
				t.Fatal(err)
			}
			m := &Message{ID: "01JMSG", Channel: consent.Email, From: "news@acme.dk", To: "anna@example.com",
				Subject: "November news", Body: "Hello Anna\n\n-- \nUnsubscribe: https://cg.example/v1/unsubscribe/x",
				Headers: map[string]string{"List-Unsubscribe": "<https://cg.example/v1/unsubscribe/x>",
					"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}}
			res, err := a.Send(context.Background(), m)
			if err != nil {
				t.Fatal(err)
			}
			if res.ProviderRef != "<01JMSG@acme.dk>" {
				t.Errorf("provider ref %q", res.ProviderRef)
			}
			mb.mu.Lock()
			defer mb.mu.Unlock()
			if len(mb.mails) != 1 {
				t.Fatalf("server got %d mails", len(mb.mails))
			}
			got := mb.mails[0]
			if got.from != "news@acme.dk" || got.to != "anna@example.com" || !got.tls || !got.authed {
				t.Errorf("envelope %+v", got)
			}
			for _, want := range []string{"Subject: November news\r\n", "Message-ID: <01JMSG@acme.dk>\r\n",
				"List-Unsubscribe: <https://cg.example/v1/unsubscribe/x>\r\n",
				"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n", "Hello Anna"} {
				if !strings.Contains(got.data, want) {
					t.Errorf("mail lacks %q:\n%s", want, got.data)
				}
			}
		})
	}
}

func TestSMTPFailures(t *testing.T) {
	cert, caPEM := testCert(t)
	_, port := startMailbox(t, false, cert)
	set := SMTPSettings{Host: "127.0.0.1", Port: port, Username: "gateway", CAPEM: caPEM, TimeoutSeconds: 5}
	send := func(set SMTPSettings, password, to string) error {
		a, err := NewSMTP(set, password)
		if err != nil {
			t.Fatal(err)
		}
		_, err = a.Send(context.Background(), &Message{ID: "x", Channel: consent.Email, From: "news@acme.dk", To: to, Body: "b"})
		return err
	}
	untrusted := set
	untrusted.CAPEM = ""
	closed := set
	closed.Port = freePort(t)
	for _, tc := range []struct {
		name      string
		err       error
		permanent bool
		class     string
	}{
		{"unknown recipient", send(set, "s3cret", "gone@example.com"), true, "smtp_550"},
		{"greylisted", send(set, "s3cret", "busy@example.com"), false, "smtp_451"},
		{"wrong password", send(set, "wrong", "anna@example.com"), true, "smtp_535"},
		{"certificate not trusted", send(untrusted, "s3cret", "anna@example.com"), false, "smtp_tls"},
		{"server down", send(closed, "s3cret", "anna@example.com"), false, "connect"},
	} {
		perm, class := Classify(tc.err)
		if tc.err == nil || perm != tc.permanent || class != tc.class {
			t.Errorf("%s: %v → permanent=%v class=%s", tc.name, tc.err, perm, class)
		}
	}
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestSMTPSettings(t *testing.T) {
	for _, s := range []SMTPSettings{{}, {Host: "mx:25"}, {Host: "mx", TLS: "none"}, {Host: "mx", Port: 70000}, {Host: "mx", CAPEM: "junk"}} {
		if _, err := NewSMTP(s, ""); err == nil {
			t.Errorf("NewSMTP(%+v) accepted", s)
		}
	}
	if _, err := New(Config{Kind: KindSMTP, Settings: []byte(`{"host":"mx","bogus":1}`)}); err == nil {
		t.Error("unknown setting accepted")
	}
	if !errors.Is(nil, nil) {
		t.Fatal()
	}
}
