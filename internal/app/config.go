package app

import (
	"errors"
	"flag"
	"fmt"
	"github.com/consentgate/consentgate/internal/egress"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Config is everything the server is started with. It comes from flags,
// then CONSENTGATE_* environment variables, then a TOML config file, then
// defaults, in that order of precedence; Validate checks it before anything
// starts.
type Config struct {
	Addr            string        `toml:"addr"`
	Data            string        `toml:"data"`
	MasterKeyFile   string        `toml:"master_key_file"`
	DefaultRegion   string        `toml:"default_region"`
	LogFormat       string        `toml:"log_format"`
	LogLevel        string        `toml:"log_level"`
	Synchronous     string        `toml:"sqlite_synchronous"`
	DB              string        `toml:"db"` // "": SQLite in Data; else a postgres:// URL, maybe with a password (Redacted masks it)
	ShutdownTimeout time.Duration `toml:"shutdown_timeout"`
	// OutboxLease is how long a dispatcher holds the messages it claimed: a
	// node that dies leaves them to the others after this long.
	OutboxLease time.Duration `toml:"outbox_lease"`
	// Inbound keywords (docs/inbound.md): how long a double opt-in waits
	// for YES, and how long a rotated webhook secret stays valid.
	ConfirmWindow      time.Duration `toml:"confirm_window"`
	WebhookSecretGrace time.Duration `toml:"webhook_secret_grace"`
	// Sending (docs/sending.md): where recipients reach the gateway, rate
	// limits (messages/s) and the daily volume cap per tenant.
	PublicURL      string `toml:"public_url"`
	ReceiptLinks   string `toml:"receipt_links"`
	SendRateTenant string `toml:"send_rate_tenant"`
	SendRateSender string `toml:"send_rate_sender"`
	SendDailyCap   string `toml:"send_daily_cap"`
	// Abuse limits on the API (docs/access.md): requests per second per key
	// and per source address, and failed authentications an address may make
	// before it is slowed down.
	RatePerKey          string `toml:"rate_per_key"`
	RatePerAddress      string `toml:"rate_per_address"`
	AuthFailuresAllowed string `toml:"auth_failures_allowed"`
	TrustedProxies      string `toml:"trusted_proxies"` // comma-separated addresses or CIDR prefixes
	// Web UI sessions (docs/access.md): how long one lasts unused and at
	// most, and the failed sign-ins to one account before it must back off.
	SessionIdleTimeout    time.Duration `toml:"session_idle_timeout"`
	SessionLifetime       time.Duration `toml:"session_lifetime"`
	SigninFailuresAllowed string        `toml:"signin_failures_allowed"`
	// AllowPrivateEgress lets tenant-configured destinations (provider
	// URLs, SMTP hosts, forwarding webhooks) be loopback or private
	// addresses; by default only public addresses are dialled (SSRF).
	AllowPrivateEgress string `toml:"allow_private_egress"`
	// The consent ledger: the name in its checkpoints, an external file that
	// receives a copy of each checkpoint, and how often one is signed.
	LedgerOrigin             string        `toml:"ledger_origin"`
	LedgerCheckpointFile     string        `toml:"ledger_checkpoint_file"`
	LedgerCheckpointURL      string        `toml:"ledger_checkpoint_url"`
	LedgerCheckpointInterval time.Duration `toml:"ledger_checkpoint_interval"`
	// Where the data is kept, for the record of processing (docs/records.md):
	// ISO 3166 country codes of the database and of its backups, and a free
	// text region (data centre, cloud region).
	StoreCountry  string `toml:"store_country"`
	StoreRegion   string `toml:"store_region"`
	BackupCountry string `toml:"backup_country"`
	Demo          bool   `toml:"-"`
	// Providers configured in the config file (only there: they are
	// structured), applied at every start through the same service call
	// as PUT /v1/providers/{channel}.
	Providers []ProviderConfig `toml:"provider"`
}

// ProviderConfig is one [[provider]] table of the config file. The secret
// is read from a file, never written in the config itself.
type ProviderConfig struct {
	Tenant     string         `toml:"tenant"`
	Channel    string         `toml:"channel"`
	Kind       string         `toml:"kind"`
	Settings   map[string]any `toml:"settings"`
	SecretFile string         `toml:"secret_file"`
}

// Defaults returns the default configuration.
func Defaults() Config {
	return Config{Addr: "127.0.0.1:8080", Data: "./data", DefaultRegion: "DK", LogFormat: "text", LogLevel: "info",
		Synchronous: "FULL", ShutdownTimeout: 15 * time.Second, OutboxLease: time.Minute,
		ConfirmWindow: 24 * time.Hour, WebhookSecretGrace: 24 * time.Hour,
		SessionIdleTimeout: 30 * time.Minute, SessionLifetime: 12 * time.Hour,
		LedgerOrigin: "consentgate.local/ledger", LedgerCheckpointInterval: time.Minute}
}

// option binds one setting to its flag, environment variable and file key.
type option struct {
	name, help string
	str        *string
	dur        *time.Duration
}

func (c *Config) options() []option {
	return []option{
		{name: "addr", help: "address to listen on", str: &c.Addr},
		{name: "data", help: "data directory (SQLite database, master key)", str: &c.Data},
		{name: "master-key-file", help: "master key file (default DATA/master.key, generated on first start)", str: &c.MasterKeyFile},
		{name: "default-region", help: "ISO 3166 region for phone numbers written without a country code", str: &c.DefaultRegion},
		{name: "log-format", help: "log format: text or json", str: &c.LogFormat},
		{name: "log-level", help: "log level: debug, info, warn, error", str: &c.LogLevel},
		{name: "sqlite-synchronous", help: "SQLite synchronous mode: FULL (durable on power loss) or NORMAL", str: &c.Synchronous},
		{name: "db", help: "database: empty for SQLite in the data directory, or a postgres:// URL (a password is better given by PGPASSWORD or ~/.pgpass)", str: &c.DB},
		{name: "public-url", help: "URL where recipients reach this gateway (one-click unsubscribe links; default http://ADDR)", str: &c.PublicURL},
		{name: "receipt-links", help: "true: opt-in and opt-out confirmations carry a link to the consent receipt (under --public-url)", str: &c.ReceiptLinks},
		{name: "send-rate-tenant", help: "messages/s a tenant may send (0: no limit)", str: &c.SendRateTenant},
		{name: "send-rate-sender", help: "messages/s one sender address may send (0: no limit)", str: &c.SendRateSender},
		{name: "send-daily-cap", help: "messages a tenant may send per UTC day (0: no cap)", str: &c.SendDailyCap},
		{name: "rate-per-key", help: "API requests per second one key may make (default 20000)", str: &c.RatePerKey},
		{name: "rate-per-address", help: "API requests per second one source address (IPv6: /64) may make (default 40000)", str: &c.RatePerAddress},
		{name: "trusted-proxies", help: "reverse proxies (addresses or CIDRs, comma-separated) whose X-Forwarded-For names the client", str: &c.TrustedProxies},
		{name: "allow-private-egress", help: "true: tenant-configured provider and webhook URLs may point at loopback or private addresses", str: &c.AllowPrivateEgress},
		{name: "auth-failures-allowed", help: "failed authentications from one address before it must back off (default 10)", str: &c.AuthFailuresAllowed},
		{name: "session-idle-timeout", help: "a web UI session unused this long ends", dur: &c.SessionIdleTimeout},
		{name: "session-lifetime", help: "a web UI session ends this long after sign-in, however much it is used", dur: &c.SessionLifetime},
		{name: "signin-failures-allowed", help: "failed sign-ins to one account before it must back off (default 5)", str: &c.SigninFailuresAllowed},
		{name: "shutdown-timeout", help: "how long shutdown waits for requests and writes to finish", dur: &c.ShutdownTimeout},
		{name: "confirm-window", help: "how long a pending double opt-in waits for YES", dur: &c.ConfirmWindow},
		{name: "webhook-secret-grace", help: "how long the previous inbound webhook secret stays valid after a rotation", dur: &c.WebhookSecretGrace},
		{name: "outbox-lease", help: "how long a dispatcher holds claimed messages; a dead node's messages are sent by another after this long", dur: &c.OutboxLease},
		{name: "ledger-origin", help: "the consent ledger's name in its signed checkpoints (a host name and path)", str: &c.LedgerOrigin},
		{name: "ledger-checkpoint-file", help: "append every signed ledger checkpoint to this file, outside the database", str: &c.LedgerCheckpointFile},
		{name: "ledger-checkpoint-url", help: "POST every signed ledger checkpoint to this URL (a witness or archive)", str: &c.LedgerCheckpointURL},
		{name: "ledger-checkpoint-interval", help: "how often a ledger checkpoint is signed when the tree grew", dur: &c.LedgerCheckpointInterval},
		{name: "store-country", help: "ISO 3166 country where the database is kept (record of processing)", str: &c.StoreCountry},
		{name: "store-region", help: "data centre or cloud region of the database, free text (record of processing)", str: &c.StoreRegion},
		{name: "backup-country", help: "ISO 3166 country where backups of the database are kept (record of processing)", str: &c.BackupCountry},
	}
}

// Load parses args into a Config for the command name (serve, keys ...).
// getenv is os.Getenv outside tests.
func Load(fs *flag.FlagSet, args []string, getenv func(string) string) (Config, error) {
	c := Defaults()
	opts := c.options()
	configFile := fs.String("config", "", "TOML config file (env CONSENTGATE_CONFIG)")
	flagVals := map[string]*string{}
	for _, o := range opts {
		flagVals[o.name] = fs.String(o.name, "", o.help+" (env "+envName(o.name)+")")
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if *configFile == "" {
		*configFile = getenv("CONSENTGATE_CONFIG")
	}
	if *configFile != "" {
		md, err := toml.DecodeFile(*configFile, &c)
		if err != nil {
			return c, fmt.Errorf("config file %s: %w", *configFile, err)
		}
		if und := md.Undecoded(); len(und) > 0 {
			return c, fmt.Errorf("config file %s: unknown setting %q", *configFile, und[0].String())
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, o := range opts {
		v, ok := *flagVals[o.name], set[o.name]
		if !ok {
			v, ok = getenv(envName(o.name)), getenv(envName(o.name)) != ""
		}
		if !ok {
			continue
		}
		if o.str != nil {
			*o.str = v
			continue
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			return c, fmt.Errorf("%s: %w", o.name, err)
		}
		*o.dur = d
	}
	return c, nil
}

func envName(flagName string) string {
	return "CONSENTGATE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Validate checks the configuration and fills derived defaults.
func (c *Config) Validate() error {
	var errs []error
	if c.Data == "" {
		errs = append(errs, errors.New("data: a data directory is required"))
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("addr: %w", err))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log-format: %q is not text or json", c.LogFormat))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log-level: %q is not debug, info, warn or error", c.LogLevel))
	}
	if c.DB != "" {
		// The parse error is not shown: it would repeat the URL, password
		// and all.
		if u, err := url.Parse(c.DB); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			errs = append(errs, errors.New("db: must be empty (SQLite in the data directory) or a postgres:// or postgresql:// URL"))
		}
	}
	c.Synchronous = strings.ToUpper(c.Synchronous)
	if c.Synchronous != "FULL" && c.Synchronous != "NORMAL" {
		errs = append(errs, fmt.Errorf("sqlite-synchronous: %q is not FULL or NORMAL", c.Synchronous))
	}
	if c.DefaultRegion != "" && len(c.DefaultRegion) != 2 {
		errs = append(errs, fmt.Errorf("default-region: %q is not a two-letter region code", c.DefaultRegion))
	}
	c.DefaultRegion = strings.ToUpper(c.DefaultRegion)
	if c.MasterKeyFile == "" {
		c.MasterKeyFile = filepath.Join(c.Data, "master.key")
	}
	if u := c.LedgerCheckpointURL; u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		errs = append(errs, errors.New("ledger-checkpoint-url must be an http(s) URL"))
	}
	if c.LedgerCheckpointInterval < time.Second {
		errs = append(errs, errors.New("ledger-checkpoint-interval must be at least 1s"))
	}
	errs = append(errs, c.checkLocation()...)
	if _, err := c.sendConfig(); err != nil {
		errs = append(errs, err)
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("shutdown-timeout must be positive"))
	}
	if c.ConfirmWindow < time.Minute || c.ConfirmWindow > 30*24*time.Hour {
		errs = append(errs, errors.New("confirm-window must be between 1m and 720h"))
	}
	if c.WebhookSecretGrace < time.Minute {
		errs = append(errs, errors.New("webhook-secret-grace must be at least 1m"))
	}
	for i, p := range c.Providers {
		if p.Tenant == "" || p.Channel == "" || p.Kind == "" {
			errs = append(errs, fmt.Errorf("provider %d: tenant, channel and kind are required", i+1))
		}
	}
	if _, err := c.egress(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.limits(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.sessionConfig(); err != nil {
		errs = append(errs, err)
	}
	if c.OutboxLease < time.Second {
		errs = append(errs, errors.New("outbox-lease must be at least 1s"))
	}
	return errors.Join(errs...)
}

// Redacted returns the configuration as text for logs and `config` dumps.
// The database URL may hold a password, which is masked (the master key is
// a path, not a secret itself).
func (c Config) Redacted() string {
	return fmt.Sprintf("addr=%s data=%s db=%s master_key_file=%s default_region=%s log=%s/%s sqlite_synchronous=%s",
		c.Addr, c.Data, redactDB(c.DB), c.MasterKeyFile, c.DefaultRegion, c.LogFormat, c.LogLevel, c.Synchronous)
}

// redactDB masks the password of a database URL, in its user part and in a
// password parameter.
func redactDB(db string) string {
	if db == "" {
		return "sqlite"
	}
	u, err := url.Parse(db)
	if err != nil {
		return "(unparsable URL)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// EnsureDataDir creates the data directory, private to its owner.
func (c Config) EnsureDataDir() error {
	return os.MkdirAll(c.Data, 0o700)
}

// egress is the node's policy for tenant-configured destinations.
func (c *Config) egress() (egress.Policy, error) {
	if c.AllowPrivateEgress == "" {
		return egress.Policy{}, nil
	}
	b, err := strconv.ParseBool(c.AllowPrivateEgress)
	if err != nil {
		return egress.Policy{}, fmt.Errorf("allow-private-egress: %q is not true or false", c.AllowPrivateEgress)
	}
	return egress.Policy{AllowPrivate: b}, nil
}
