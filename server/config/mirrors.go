package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/wharfhub/wharf/server/mirror/upstream"
	"github.com/wharfhub/wharf/server/textcheck"
)

// Mirror is an upstream registry that a namespace mirrors.
type Mirror struct {
	// Name is the namespace, such as "hub".
	Name string
	// URL is the upstream's base URL, such as https://registry-1.docker.io.
	URL string
	// Username and Password log in to the upstream; they come from the
	// environment or the config file, never from a flag.
	Username, Password string
}

var mirrorSettings = []Setting{
	{Name: "mirror", env: "WHARF_MIRRORS", fileKey: "mirrors", multi: true,
		Usage: "make namespace NAME a read-only pull-through cache of the registry at URL: NAME=URL (repeatable)", Def: "",
		set: func(c *Config, v string) error {
			c.Mirrors = nil
			seen := map[string]bool{}
			for _, item := range strings.Split(v, ",") {
				item = strings.TrimSpace(item)
				if item == "" {
					continue
				}
				name, raw, ok := strings.Cut(item, "=")
				if !ok {
					return fmt.Errorf("mirror %q: want NAME=URL, such as hub=https://registry-1.docker.io", item)
				}
				if !textcheck.NamespaceName(name) {
					return fmt.Errorf("mirror %q: %q is not a namespace name (2 to 64 lowercase letters, digits, - and _)", item, name)
				}
				if seen[name] {
					return fmt.Errorf("mirror %q is given twice", name)
				}
				seen[name] = true
				u, err := upstream.RegistryURL(raw)
				if err != nil {
					return fmt.Errorf("mirror %s: %q is not a registry URL such as https://registry-1.docker.io (credentials go in the environment)", name, raw)
				}
				c.Mirrors = append(c.Mirrors, Mirror{Name: name, URL: u})
			}
			return nil
		}},
	{Name: "mirror-ttl", Usage: "how long a mirrored tag is trusted before a HEAD asks the upstream whether it moved", Def: "5m",
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return fmt.Errorf("mirror-ttl must be a duration such as 5m, not %q", v)
			}
			c.MirrorTTL = d
			return nil
		}},
	{Name: "mirror-retention", Usage: "evict a mirrored repository nobody pulled for this long, e.g. 720h (0: keep everything)", Def: "0",
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return fmt.Errorf("mirror-retention must be 0 or a duration such as 720h, not %q", v)
			}
			c.MirrorRetention = d
			return nil
		}},
	{Name: "registry-mirror", Usage: "the mirror that also answers Docker Hub paths at the root (/v2/library/alpine/...), for dockerd's registry-mirrors", Def: "",
		set: str(func(c *Config) *string { return &c.RegistryMirror })},
}

// mirrorCredentialKey admits a mirror's credentials in the config file:
// mirror-NAME-username and mirror-NAME-password.
func mirrorCredentialKey(key string) bool {
	rest, ok := strings.CutPrefix(key, "mirror-")
	if !ok {
		return false
	}
	for _, suffix := range []string{"-username", "-password"} {
		if name, ok := strings.CutSuffix(rest, suffix); ok && name != "" {
			return true
		}
	}
	return false
}

// mirrorEnv is the environment variable of a mirror's credential:
// WHARF_MIRROR_<NAME>_USERNAME, NAME upper-cased, - and . as _.
func mirrorEnv(name, what string) string {
	n := strings.NewReplacer("-", "_", ".", "_").Replace(strings.ToUpper(name))
	return "WHARF_MIRROR_" + n + "_" + strings.ToUpper(what)
}

// loadMirrorCredentials fills each mirror's credentials, the environment
// beating the config file, and checks --registry-mirror.
func loadMirrorCredentials(c *Config, file Values, getenv func(string) string) error {
	for i := range c.Mirrors {
		m := &c.Mirrors[i]
		for what, p := range map[string]*string{"username": &m.Username, "password": &m.Password} {
			*p = file["mirror-"+m.Name+"-"+what]
			if v := getenv(mirrorEnv(m.Name, what)); v != "" {
				*p = v
			}
		}
		if (m.Username == "") != (m.Password == "") {
			return fmt.Errorf("mirror %s: give both a username and a password (%s, %s), or neither",
				m.Name, mirrorEnv(m.Name, "username"), mirrorEnv(m.Name, "password"))
		}
	}
	for k := range file {
		if mirrorCredentialKey(k) && !hasMirrorKey(c.Mirrors, k) {
			return fmt.Errorf("config file: %q names no mirror", k)
		}
	}
	if c.RegistryMirror != "" && !hasMirror(c.Mirrors, c.RegistryMirror) {
		return fmt.Errorf("registry-mirror %q is not one of the mirrors (--mirror %s=URL)", c.RegistryMirror, c.RegistryMirror)
	}
	return nil
}

func hasMirror(ms []Mirror, name string) bool {
	for _, m := range ms {
		if m.Name == name {
			return true
		}
	}
	return false
}

func hasMirrorKey(ms []Mirror, key string) bool {
	for _, m := range ms {
		if key == "mirror-"+m.Name+"-username" || key == "mirror-"+m.Name+"-password" {
			return true
		}
	}
	return false
}
