package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// OIDC is single sign-on through an OpenID Connect provider; off without
// an issuer.
type OIDC struct {
	Issuer   string
	ClientID string
	// ClientSecret comes from WHARF_OIDC_CLIENT_SECRET or the config
	// file's oidc-client-secret, never from a flag.
	ClientSecret string
	Scopes       []string
	// UsernameClaim names the claim new accounts take their name from.
	UsernameClaim string
	// GroupsClaim, if set, names the claim of groups ("org/team") whose
	// teams the account joins.
	GroupsClaim string
	// Only turns password sign-in off, except for site administrators
	// (the break-glass way in).
	Only bool
	// RequireVerifiedEmail refuses an e-mail address the provider has not
	// verified.
	RequireVerifiedEmail bool
	// Name is what the sign-in button says.
	Name string
}

var oidcSettings = []Setting{
	{Name: "oidc-issuer", Usage: "the OpenID Connect provider's issuer URL, for single sign-on (off if empty)", Def: "",
		set: func(c *Config, v string) error {
			if v != "" {
				u, err := url.Parse(v)
				if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "" {
					return fmt.Errorf("oidc-issuer must be an http(s) URL such as https://login.example.com, not %q", v)
				}
			}
			c.OIDC.Issuer = v
			return nil
		}},
	{Name: "oidc-client-id", Usage: "Wharf's client id at the provider (the secret goes in WHARF_OIDC_CLIENT_SECRET or the config file)", Def: "",
		set: str(func(c *Config) *string { return &c.OIDC.ClientID })},
	{Name: "oidc-scopes", Usage: "the scopes Wharf asks for, comma-separated", Def: "openid,profile,email",
		set: func(c *Config, v string) error {
			c.OIDC.Scopes = nil
			for _, s := range strings.Split(v, ",") {
				if s = strings.TrimSpace(s); s != "" {
					c.OIDC.Scopes = append(c.OIDC.Scopes, s)
				}
			}
			return nil
		}},
	{Name: "oidc-username-claim", Usage: "the claim a new account's name comes from", Def: "preferred_username",
		set: str(func(c *Config) *string { return &c.OIDC.UsernameClaim })},
	{Name: "oidc-groups-claim", Usage: "the claim of groups, ORG/TEAM, whose teams accounts join at sign-in (off if empty)", Def: "",
		set: str(func(c *Config) *string { return &c.OIDC.GroupsClaim })},
	{Name: "oidc-only", Usage: "turn password sign-in off, except for site administrators", Def: "false",
		set: boolSetting("oidc-only", func(c *Config) *bool { return &c.OIDC.Only })},
	{Name: "oidc-require-verified-email", Usage: "refuse an e-mail address the provider has not verified", Def: "true",
		set: boolSetting("oidc-require-verified-email", func(c *Config) *bool { return &c.OIDC.RequireVerifiedEmail })},
	{Name: "oidc-name", Usage: "what the sign-in button calls the provider", Def: "single sign-on",
		set: str(func(c *Config) *string { return &c.OIDC.Name })},
}

func init() {
	ServeSettings = append(ServeSettings, oidcSettings...)
	secretKeys["oidc-client-secret"] = "WHARF_OIDC_CLIENT_SECRET"
}

// loadOIDC fills the client secret and checks the settings go together.
func loadOIDC(c *Config, file Values, getenv func(string) string) error {
	c.OIDC.ClientSecret = file["oidc-client-secret"]
	if v := getenv(secretKeys["oidc-client-secret"]); v != "" {
		c.OIDC.ClientSecret = v
	}
	switch {
	case c.OIDC.Issuer == "" && c.OIDC.Only:
		return fmt.Errorf("oidc-only needs oidc-issuer: nobody could sign in")
	case c.OIDC.Issuer == "":
		return nil
	case c.OIDC.ClientID == "":
		return fmt.Errorf("oidc-issuer needs oidc-client-id")
	case !slices.Contains(c.OIDC.Scopes, "openid"):
		return fmt.Errorf("oidc-scopes must include openid")
	case c.OIDC.UsernameClaim == "":
		return fmt.Errorf("oidc-username-claim must name a claim")
	}
	return nil
}
