package app

import (
	"strings"
	"testing"
	"time"
)

// TestSessionConfig: the session settings come from flags (and the other
// sources, like every setting), have defaults, and are checked.
func TestSessionConfig(t *testing.T) {
	c, err := load(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := c.sessionConfig()
	if err != nil || sc.IdleTimeout != 30*time.Minute || sc.Lifetime != 12*time.Hour || sc.FailuresAllowed != 5 {
		t.Fatalf("defaults: %+v %v", sc, err)
	}
	c, err = load(t, []string{"--session-idle-timeout", "10m", "--session-lifetime", "8h"},
		map[string]string{"CONSENTGATE_SIGNIN_FAILURES_ALLOWED": "3"})
	if err != nil {
		t.Fatal(err)
	}
	if sc, err = c.sessionConfig(); err != nil || sc.IdleTimeout != 10*time.Minute || sc.Lifetime != 8*time.Hour || sc.FailuresAllowed != 3 {
		t.Fatalf("set: %+v %v", sc, err)
	}
	for _, bad := range [][]string{
		{"--session-idle-timeout", "10s"},
		{"--session-idle-timeout", "2h", "--session-lifetime", "1h"},
		{"--session-lifetime", "2000h"},
		{"--signin-failures-allowed", "0"},
		{"--signin-failures-allowed", "many"},
	} {
		c, err := load(t, append([]string{"--data", t.TempDir()}, bad...), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(bad[len(bad)-2], "--")) {
			t.Errorf("%v: %v", bad, err)
		}
	}
}
