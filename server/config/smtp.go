package config

import (
	"fmt"
	"net"
	"net/mail"
	"strconv"
)

// SMTP is the mail server Wharf sends through (reset links); none
// without an address.
type SMTP struct {
	Addr     string // host:port
	From     string // the From address
	Username string
	// Password comes from WHARF_SMTP_PASSWORD or the config file's
	// smtp-password, never from a flag.
	Password string
	// TLS is auto (STARTTLS when offered), starttls (required), tls
	// (implicit, as on port 465) or none.
	TLS string
}

var smtpSettings = []Setting{
	{Name: "smtp-addr", Usage: "the SMTP server (host:port) that sends mail such as password reset links; none if empty", Def: "",
		set: func(c *Config, v string) error {
			if v != "" {
				host, port, err := net.SplitHostPort(v)
				if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
					return fmt.Errorf("smtp-addr must be host:port, such as mail.example.com:587, not %q", v)
				}
			}
			c.SMTP.Addr = v
			return nil
		}},
	{Name: "smtp-from", Usage: "the From address of the mail Wharf sends", Def: "",
		set: func(c *Config, v string) error {
			if v != "" {
				if _, err := mail.ParseAddress(v); err != nil {
					return fmt.Errorf("smtp-from must be an address such as wharf@example.com, not %q", v)
				}
			}
			c.SMTP.From = v
			return nil
		}},
	{Name: "smtp-username", Usage: "the SMTP username (the password goes in WHARF_SMTP_PASSWORD or the config file)", Def: "",
		set: str(func(c *Config) *string { return &c.SMTP.Username })},
	{Name: "smtp-tls", Usage: "auto (STARTTLS when offered), starttls (required), tls (implicit) or none", Def: "auto",
		set: func(c *Config, v string) error {
			switch v {
			case "auto", "starttls", "tls", "none":
				c.SMTP.TLS = v
				return nil
			}
			return fmt.Errorf("smtp-tls must be auto, starttls, tls or none, not %q", v)
		}},
}

func init() { ServeSettings = append(ServeSettings, smtpSettings...) }

// secretKeys are the config file keys of secrets, which have no flag.
var secretKeys = map[string]string{"smtp-password": "WHARF_SMTP_PASSWORD"}

// fileOnly admits the config file keys that are no flag: secrets.
func fileOnly(key string) bool { _, ok := secretKeys[key]; return ok || mirrorCredentialKey(key) }

// loadSecrets fills the secrets, the environment beating the config file,
// and checks the SMTP settings go together.
func loadSecrets(c *Config, file Values, getenv func(string) string) error {
	c.SMTP.Password = file["smtp-password"]
	if v := getenv(secretKeys["smtp-password"]); v != "" {
		c.SMTP.Password = v
	}
	if c.SMTP.Addr != "" && c.SMTP.From == "" {
		return fmt.Errorf("smtp-addr needs smtp-from, the address mail comes from")
	}
	if (c.SMTP.Username == "") != (c.SMTP.Password == "") {
		return fmt.Errorf("smtp: give both a username (--smtp-username) and a password (WHARF_SMTP_PASSWORD), or neither")
	}
	return nil
}
