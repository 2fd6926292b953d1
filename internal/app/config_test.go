package app

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T, args []string, env map[string]string) (Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return Load(fs, args, func(k string) string { return env[k] })
}

// TestConfigPrecedence: flags beat the environment, which beats the config
// file, which beats the defaults.
func TestConfigPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cg.toml")
	os.WriteFile(file, []byte("addr = \"127.0.0.1:9000\"\ndata = \"/from/file\"\nlog_format = \"json\"\nshutdown_timeout = \"3s\"\n"), 0o600)

	c, err := load(t, []string{"--config", file}, nil)
	if err != nil || c.Addr != "127.0.0.1:9000" || c.Data != "/from/file" || c.LogFormat != "json" || c.ShutdownTimeout != 3*time.Second {
		t.Fatalf("file: %+v %v", c, err)
	}
	c, err = load(t, nil, map[string]string{"CONSENTGATE_CONFIG": file, "CONSENTGATE_DATA": "/from/env", "CONSENTGATE_SHUTDOWN_TIMEOUT": "7s"})
	if err != nil || c.Data != "/from/env" || c.Addr != "127.0.0.1:9000" || c.ShutdownTimeout != 7*time.Second {
		t.Fatalf("env over file: %+v %v", c, err)
	}
	c, err = load(t, []string{"--data", "/from/flag"}, map[string]string{"CONSENTGATE_CONFIG": file, "CONSENTGATE_DATA": "/from/env"})
	if err != nil || c.Data != "/from/flag" {
		t.Fatalf("flag over env: %+v %v", c, err)
	}
	c, err = load(t, nil, nil)
	if err != nil || c.Addr != "127.0.0.1:8080" || c.Data != "./data" {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	if err := c.Validate(); err != nil || c.MasterKeyFile != filepath.Join("data", "master.key") {
		t.Fatalf("validate defaults: %v %q", err, c.MasterKeyFile)
	}
}

func TestConfigErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cg.toml")
	os.WriteFile(file, []byte("adr = \"x\"\n"), 0o600)
	if _, err := load(t, []string{"--config", file}, nil); err == nil || !strings.Contains(err.Error(), "unknown setting") {
		t.Fatalf("unknown config key: %v", err)
	}
	if _, err := load(t, []string{"--config", "/does/not/exist.toml"}, nil); err == nil {
		t.Fatal("missing config file accepted")
	}
	if _, err := load(t, nil, map[string]string{"CONSENTGATE_SHUTDOWN_TIMEOUT": "soon"}); err == nil {
		t.Fatal("bad duration accepted")
	}
	c, _ := load(t, []string{"--log-level", "loud", "--sqlite-synchronous", "off", "--default-region", "DNK"}, nil)
	err := c.Validate()
	for _, want := range []string{"log-level", "sqlite-synchronous", "default-region"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate did not report %s: %v", want, err)
		}
	}
}

func TestInboundSettings(t *testing.T) {
	c, err := load(t, []string{"--confirm-window", "48h"}, map[string]string{"CONSENTGATE_WEBHOOK_SECRET_GRACE": "2h"})
	if err != nil || c.Validate() != nil || c.ConfirmWindow != 48*time.Hour || c.WebhookSecretGrace != 2*time.Hour {
		t.Fatalf("%+v %v", c, err)
	}
	c, _ = load(t, []string{"--confirm-window", "10s", "--webhook-secret-grace", "0s"}, nil)
	err = c.Validate()
	if err == nil || !strings.Contains(err.Error(), "confirm-window") || !strings.Contains(err.Error(), "webhook-secret-grace") {
		t.Fatalf("Validate = %v", err)
	}
}

func TestLimitSettings(t *testing.T) {
	c, err := load(t, []string{"--rate-per-key", "50", "--auth-failures-allowed", "3"}, map[string]string{"CONSENTGATE_RATE_PER_ADDRESS": "100"})
	if err != nil || c.Validate() != nil {
		t.Fatalf("%v %v", err, c.Validate())
	}
	l, err := c.limits()
	if err != nil || l.KeyRate != 50 || l.KeyBurst != 101 || l.AddrRate != 100 || l.FailuresAllowed != 3 {
		t.Fatalf("limits = %+v, %v", l, err)
	}
	c, _ = load(t, []string{"--rate-per-key", "0", "--auth-failures-allowed", "-1"}, nil)
	err = c.Validate()
	if err == nil || !strings.Contains(err.Error(), "rate-per-key") || !strings.Contains(err.Error(), "auth-failures-allowed") {
		t.Fatalf("Validate = %v", err)
	}
}

func TestTrustedProxies(t *testing.T) {
	c, _ := load(t, []string{"--trusted-proxies", "10.0.0.0/8, 192.0.2.1 ,2001:db8::/32"}, nil)
	l, err := c.limits()
	if err != nil || len(l.TrustedProxies) != 3 || l.TrustedProxies[1].String() != "192.0.2.1/32" {
		t.Fatalf("%v %v", l.TrustedProxies, err)
	}
	c, _ = load(t, []string{"--trusted-proxies", "proxy.example"}, nil)
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "trusted-proxies") {
		t.Fatalf("Validate = %v", err)
	}
}
