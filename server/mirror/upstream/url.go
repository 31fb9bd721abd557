package upstream

import (
	"errors"
	"net/url"
	"strings"
)

// RegistryURL checks the URL a mirror is defined with and answers it as
// scheme://host[:port]: http or https, a host, and nothing else (no
// credentials, which go in Username and Password, no path, query or
// fragment). The flags and the API define mirrors by this one rule.
func RegistryURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(raw), "/"))
	switch {
	case err != nil:
		return "", err
	case u.Scheme != "http" && u.Scheme != "https":
		return "", errors.New("the scheme must be http or https")
	case u.Host == "" || u.Hostname() == "":
		return "", errors.New("there is no host")
	case u.User != nil:
		return "", errors.New("it holds credentials")
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", errors.New("it has a path, query or fragment")
	}
	return u.Scheme + "://" + u.Host, nil
}
