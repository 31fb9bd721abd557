package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/wharfhub/wharf/server/clientaddr"
)

// Config holds the server's settings.
type Config struct {
	Addr      string
	DataDir   string
	BaseURL   string
	LogLevel  string
	LogFormat string
	UploadTTL time.Duration
	// MaxOpenUploads caps the open upload sessions of one account.
	MaxOpenUploads int
	// DefaultVisibility is the visibility of a repository created by its
	// first push.
	DefaultVisibility string
	// AllowSignup lets visitors create accounts in the web UI.
	AllowSignup bool
	// WebhookAllowedHosts is the webhook targets' allow list.
	WebhookAllowedHosts string
	// TrustedProxies lists the reverse proxies (CIDRs or addresses, comma
	// separated) whose X-Forwarded-For names the client; empty trusts none.
	TrustedProxies string
	// Database is empty for SQLite in the data directory, or a
	// postgres:// URL.
	Database string
	// GCInterval runs garbage collection online this often (0: never).
	GCInterval time.Duration
	// GCGrace keeps blobs and manifests used more recently than this.
	GCGrace time.Duration
	// GCDeleteUntagged lets garbage collection delete untagged manifests.
	GCDeleteUntagged bool
	// Storage is the blob store: "filesystem" (in the data directory) or
	// "s3", set up by S3.
	Storage string
	S3      S3
	// BodyTimeout bounds how long a request other than a /v2/ transfer
	// may take to send its body.
	BodyTimeout time.Duration
	// MetricsToken, if set, is the bearer token /metrics asks for.
	MetricsToken string
	// TLS is how HTTPS is served, if it is.
	TLS TLS
	// Mirrors are the namespaces that cache upstream registries.
	Mirrors []Mirror
	// MirrorTTL is how long a mirrored tag is trusted before the upstream
	// is asked again.
	MirrorTTL time.Duration
	// RegistryMirror is the mirror that answers Docker Hub paths at the
	// root, for dockerd's registry-mirrors.
	RegistryMirror string
	// MirrorRetention evicts mirrored repositories nobody pulled for this
	// long (0: never).
	MirrorRetention time.Duration
	// Scanner is how images are scanned.
	Scanner Scanner
	// AuditRetention is how long audit log entries are kept (0: forever).
	AuditRetention time.Duration
	// RetentionInterval is how often retention policies run (0: only by
	// hand).
	RetentionInterval time.Duration
	// SMTP sends mail (none without an address).
	SMTP SMTP
	// OIDC is single sign-on (none without an issuer).
	OIDC OIDC
}

// Setting describes one flag with its environment variable.
type Setting struct {
	Name  string
	Usage string
	Def   string
	// env, fileKey and multi are Flag's EnvName, FileKey and Multi.
	env, fileKey string
	multi        bool
	set          func(c *Config, v string) error
}

// Env is the environment variable of a setting.
func (s Setting) Env() string { return s.flag().Env() }

func (s Setting) flag() Flag {
	return Flag{Name: s.Name, Usage: s.Usage, Def: s.Def, EnvName: s.env, FileKey: s.fileKey, Multi: s.multi}
}

func flags(settings []Setting) []Flag {
	out := make([]Flag, len(settings))
	for i, s := range settings {
		out[i] = s.flag()
	}
	return out
}

func str(p func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *p(c) = v; return nil }
}

// ServeSettings are the settings of `wharf serve`.
var ServeSettings = []Setting{
	{Name: "addr", Usage: "address to listen on", Def: "127.0.0.1:5000",
		set: str(func(c *Config) *string { return &c.Addr })},
	{Name: "data-dir", Usage: "directory for the database, blobs and search index", Def: "./data",
		set: str(func(c *Config) *string { return &c.DataDir })},
	{Name: "base-url", Usage: "public URL of this server, used in links and auth realms (default http://ADDR, or https:// with TLS on)", Def: "",
		set: str(func(c *Config) *string { return &c.BaseURL })},
	{Name: "log-level", Usage: "debug, info, warn or error", Def: "info",
		set: func(c *Config, v string) error {
			switch v {
			case "debug", "info", "warn", "error":
				c.LogLevel = v
				return nil
			}
			return fmt.Errorf("log-level must be debug, info, warn or error, not %q", v)
		}},
	{Name: "log-format", Usage: "text or json", Def: "text",
		set: func(c *Config, v string) error {
			if v != "text" && v != "json" {
				return fmt.Errorf("log-format must be text or json, not %q", v)
			}
			c.LogFormat = v
			return nil
		}},
	{Name: "upload-ttl", Usage: "how long an untouched blob upload session is kept", Def: "24h",
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("upload-ttl must be a positive duration such as 24h, not %q", v)
			}
			c.UploadTTL = d
			return nil
		}},
	{Name: "max-open-uploads", Usage: "most open blob upload sessions one account may hold", Def: "100",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return fmt.Errorf("max-open-uploads must be a positive number, not %q", v)
			}
			c.MaxOpenUploads = n
			return nil
		}},
	{Name: "default-visibility", Usage: "visibility of a repository created by its first push: public or private", Def: "public",
		set: func(c *Config, v string) error {
			if v != "public" && v != "private" {
				return fmt.Errorf("default-visibility must be public or private, not %q", v)
			}
			c.DefaultVisibility = v
			return nil
		}},
	{Name: "allow-signup", Usage: "let visitors create accounts in the web UI: true or false", Def: "true",
		set: boolSetting("allow-signup", func(c *Config) *bool { return &c.AllowSignup })},
	{Name: "database", Usage: "metadata database: empty for SQLite in the data dir, or a postgres:// URL", Def: "",
		set: func(c *Config, v string) error {
			if v != "" && !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") {
				return fmt.Errorf("database must be empty (SQLite) or a postgres:// URL")
			}
			c.Database = v
			return nil
		}},
	{Name: "webhook-allowed-hosts", Usage: "webhook targets allowed: comma list of external, private, loopback, *, CIDRs or host globs", Def: "external",
		set: str(func(c *Config) *string { return &c.WebhookAllowedHosts })},
	{Name: "trusted-proxies", Usage: "reverse proxies whose X-Forwarded-For gives the client address: comma list of CIDRs or IPs (default none: the header is ignored)", Def: "",
		set: func(c *Config, v string) error {
			if _, err := clientaddr.Parse(v); err != nil {
				return fmt.Errorf("trusted-proxies: %w", err)
			}
			c.TrustedProxies = v
			return nil
		}},
	{Name: "gc-interval", Usage: "run garbage collection online this often, e.g. 24h (0: never)", Def: "0",
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return fmt.Errorf("gc-interval must be 0 or a positive duration such as 24h, not %q", v)
			}
			c.GCInterval = d
			return nil
		}},
	{Name: "gc-grace", Usage: "garbage collection keeps blobs and manifests used more recently than this", Def: "2h",
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return fmt.Errorf("gc-grace must be a duration such as 2h, not %q", v)
			}
			c.GCGrace = d
			return nil
		}},
	{Name: "gc-delete-untagged", Usage: "let garbage collection delete untagged manifests no index or subject keeps: true or false", Def: "false",
		set: boolSetting("gc-delete-untagged", func(c *Config) *bool { return &c.GCDeleteUntagged })},
	{Name: "body-timeout", Usage: "how long pages, the API and the token realm wait for a request body (blob transfers are not bound)", Def: "1m",
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("body-timeout must be a positive duration such as 1m, not %q", v)
			}
			c.BodyTimeout = d
			return nil
		}},
	{Name: "metrics-token", Usage: "bearer token that /metrics asks for (empty: /metrics is public); prefer the env var", Def: "",
		set: str(func(c *Config) *string { return &c.MetricsToken })},
}

// OpenSettings are the settings of commands that open the data directory,
// the database and the blob store without serving.
func OpenSettings(more ...string) []Setting {
	keep := map[string]bool{"data-dir": true, "database": true}
	for _, m := range more {
		keep[m] = true
	}
	var out []Setting
	for _, s := range ServeSettings {
		if keep[s.Name] {
			out = append(out, s)
		}
	}
	return append(out, storageSettings...)
}

// Load parses args for settings (Parse), then fills what args did not set
// from the environment, then from --config FILE, then from the defaults;
// every serve setting is read, a flag of the command or not.
//
// extra, if not nil, adds the command's own flags to the flag set.
func Load(name string, settings []Setting, args []string, getenv func(string) string, out io.Writer, extra func(*flag.FlagSet)) (*Config, []string, error) {
	vals, rest, err := Parse(Command{Name: name, Flags: flags(settings), Known: flags(ServeSettings), Extra: extra,
		FileOnly: fileOnly}, args, getenv, out)
	if err != nil {
		return nil, nil, err
	}
	c := &Config{}
	for _, s := range ServeSettings {
		if err := s.set(c, vals[s.Name]); err != nil {
			return nil, nil, err
		}
	}
	if err := loadMirrorCredentials(c, vals, getenv); err != nil {
		return nil, nil, err
	}
	if err := loadSecrets(c, vals, getenv); err != nil {
		return nil, nil, err
	}
	if err := loadOIDC(c, vals, getenv); err != nil {
		return nil, nil, err
	}
	// An empty base URL is derived from the address actually listened on.
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.DataDir == "" {
		return nil, nil, errors.New("data-dir must not be empty")
	}
	if err := checkTLS(c.TLS); err != nil {
		return nil, nil, err
	}
	return c, rest, nil
}

// ServeUsage prints the usage of a command with these settings.
func ServeUsage(out io.Writer, name string, settings []Setting) {
	Usage(out, Command{Name: name, Flags: flags(settings)}, nil)
}
