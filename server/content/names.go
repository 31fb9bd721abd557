package content

import (
	"regexp"

	"github.com/opencontainers/go-digest"
)

// MaxNameLength caps a repository name, as the reference grammar does.
const MaxNameLength = 255

var (
	// nameRE is the path grammar of distribution/reference: lowercase
	// components separated by "/", each made of alphanumerics joined by
	// ".", "_", "__" or runs of "-".
	nameRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$`)
	tagRE  = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
)

// ValidName reports whether name is a valid repository name.
func ValidName(name string) bool {
	return len(name) <= MaxNameLength && nameRE.MatchString(name)
}

// ValidTag reports whether tag is a valid tag name.
func ValidTag(tag string) bool { return tagRE.MatchString(tag) }

// ParseDigest parses and validates a digest of a supported algorithm.
func ParseDigest(s string) (digest.Digest, error) {
	d, err := digest.Parse(s)
	if err != nil {
		return "", err
	}
	return d, nil
}
