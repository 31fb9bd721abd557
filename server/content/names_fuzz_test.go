package content_test

import (
	_ "crypto/sha256" // digest.Parse accepts only algorithms linked in
	_ "crypto/sha512"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/server/content"
)

// nameSeeds are repository names at the edges of the grammar, valid and not.
var nameSeeds = []string{
	"",
	"a",
	"library/ubuntu",
	"alice/app",
	"a/b/c/d/e/f",
	"a.b/c",
	"a-b/c",
	"a--b/c",
	"a__b",
	"a___b",
	"a_.b",
	"a..b",
	"a.-b",
	"a-",
	"-a",
	"_a",
	"a_",
	".a",
	"a.",
	"/a",
	"a/",
	"a//b",
	"a/../b",
	"a/./b",
	"..",
	"A",
	"alice/App",
	"Example.com/app",
	"localhost/app",
	"localhost:5000/app",
	"example.com:5000/app",
	"[::1]/app",
	"[::1]:5000/app",
	"a/b:tag",
	"a/b@sha256:" + strings.Repeat("a", 64),
	"a:b",
	"a\x00b",
	"a b",
	"a\nb",
	"ä",
	"blobs/uploads",
	"_catalog",
	"docker.io/library/ubuntu",
	"index.docker.io/ubuntu",
	"library/x",
	strings.Repeat("a", 64),
	strings.Repeat("0", 64),
	strings.Repeat("a", 254),
	strings.Repeat("a", 255),
	strings.Repeat("a", 256),
	strings.Repeat("a/", 127) + "a",
	strings.Repeat("a/", 127) + "ab",
	"a.b/" + strings.Repeat("c", 251),
	"a.b/" + strings.Repeat("c", 252),
	"a.b/" + strings.Repeat("c", 255),
}

// nameCharset holds the bytes a Wharf name may contain; on strings made of
// them alone the two grammars have no reason to differ.
func nameCharset(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '/') {
			return false
		}
	}
	return true
}

var anchoredHex64 = regexp.MustCompile(`^[a-f0-9]{64}$`)

func FuzzValidName(f *testing.F) {
	for _, s := range nameSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		valid := content.ValidName(name)

		// What Wharf must never accept, whatever reference says.
		if valid {
			switch {
			case name == "":
				t.Fatal("accepted the empty name")
			case len(name) > content.MaxNameLength:
				t.Fatalf("accepted a name of %d bytes", len(name))
			case strings.ContainsRune(name, 0):
				t.Fatalf("accepted %q with a NUL", name)
			case strings.Contains(name, ".."):
				t.Fatalf("accepted %q with ..", name)
			case strings.Contains(name, "//"):
				t.Fatalf("accepted %q with //", name)
			case strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/"):
				t.Fatalf("accepted %q with a leading or trailing /", name)
			case strings.ToLower(name) != name:
				t.Fatalf("accepted %q with uppercase", name)
			case !nameCharset(name):
				t.Fatalf("accepted %q with a byte outside [a-z0-9._/-]", name)
			}
			for _, c := range strings.Split(name, "/") {
				if c == "." || c == ".." || strings.Trim(c, "._-") != c {
					t.Fatalf("accepted %q with component %q", name, c)
				}
			}
		}

		// Agreement with distribution/reference. Where the grammars
		// legitimately differ: reference also accepts a domain as the first
		// component (with a port, brackets for IPv6, or uppercase), tags and
		// digests after the name, and it caps only the path after the domain
		// at 255 bytes, not the whole string. Restricted to Wharf's character
		// set and length cap, neither a port, brackets, uppercase, ":" nor
		// "@" can appear, and any domain-like first component ("a.b",
		// "localhost") is also a valid path component, so there the two must
		// agree exactly.
		ref, err := reference.Parse(name)
		if nameCharset(name) && len(name) <= content.MaxNameLength {
			if valid != (err == nil) {
				t.Fatalf("ValidName(%q) = %v, but reference.Parse says %v", name, valid, err)
			}
		}
		if !valid {
			return
		}
		if err != nil {
			t.Fatalf("ValidName(%q) but reference.Parse: %v", name, err)
		}
		named, ok := ref.(reference.Named)
		if !ok {
			t.Fatalf("reference.Parse(%q) = %T, not a name", name, ref)
		}
		if _, tagged := ref.(reference.Tagged); tagged {
			t.Fatalf("reference.Parse(%q) found a tag in a valid name", name)
		}
		if _, digested := ref.(reference.Digested); digested {
			t.Fatalf("reference.Parse(%q) found a digest in a valid name", name)
		}
		if named.Name() != name {
			t.Fatalf("reference.Parse(%q).Name() = %q", name, named.Name())
		}

		// The Docker normalisation rejects names it would confuse with image
		// ids (64 hex), and lengthens the path of names without a domain
		// ("docker.io/library/..."), which may push it over the cap. Apart
		// from that, a valid name normalises, and back.
		if anchoredHex64.MatchString(name) {
			return
		}
		norm, err := reference.ParseNormalizedNamed(name)
		if errors.Is(err, reference.ErrNameTooLong) {
			return
		}
		if err != nil {
			t.Fatalf("ValidName(%q) but reference.ParseNormalizedNamed: %v", name, err)
		}
		first, _, _ := strings.Cut(name, "/")
		switch {
		case first == "docker.io" || first == "index.docker.io" || first == "library":
			// Docker Hub aliases fold into one another.
		case reference.FamiliarName(norm) != name:
			t.Fatalf("ParseNormalizedNamed(%q) = %q, familiar name %q", name, norm.Name(), reference.FamiliarName(norm))
		}
	})
}

var anchoredTag = regexp.MustCompile(`^` + reference.TagRegexp.String() + `$`)

// refDigest is an independent statement of the digests Wharf supports:
// a registered algorithm and lowercase hex of the hash's length.
func refDigest(s string) bool {
	alg, hex, ok := strings.Cut(s, ":")
	if !ok {
		return false
	}
	n := map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}[alg]
	if n == 0 || len(hex) != n {
		return false
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

var digestSeeds = []string{
	"",
	":",
	"sha256:",
	":" + strings.Repeat("a", 64),
	"sha256:" + strings.Repeat("a", 64),
	"sha256:" + strings.Repeat("A", 64),
	"sha256:" + strings.Repeat("a", 63),
	"sha256:" + strings.Repeat("a", 65),
	"sha256:" + strings.Repeat("g", 64),
	"sha384:" + strings.Repeat("b", 96),
	"sha512:" + strings.Repeat("c", 128),
	"sha512:" + strings.Repeat("c", 64),
	"SHA256:" + strings.Repeat("a", 64),
	"md5:d41d8cd98f00b204e9800998ecf8427e",
	"sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564",
	"foo:" + strings.Repeat("a", 64),
	"sha256:" + strings.Repeat("a", 64) + "\n",
	" sha256:" + strings.Repeat("a", 64),
	"sha256::" + strings.Repeat("a", 64),
	"sha256:" + strings.Repeat("a", 62) + "/.",
	string(digest.FromString("hello")),
}

func FuzzParseDigest(f *testing.F) {
	for _, s := range digestSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := content.ParseDigest(s)
		if ok := refDigest(s); ok != (err == nil) {
			t.Fatalf("ParseDigest(%q) error %v, but the reference says valid=%v", s, err, ok)
		}
		if err != nil {
			if d != "" {
				t.Fatalf("ParseDigest(%q) failed (%v) but returned %q", s, err, d)
			}
			return
		}
		if d.String() != s {
			t.Fatalf("ParseDigest(%q).String() = %q", s, d)
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("ParseDigest(%q) returned a digest that does not validate: %v", s, err)
		}
		if !d.Algorithm().Available() {
			t.Fatalf("ParseDigest(%q) accepted unavailable algorithm %q", s, d.Algorithm())
		}
		if string(d.Algorithm())+":"+d.Encoded() != s {
			t.Fatalf("ParseDigest(%q) splits into %q and %q", s, d.Algorithm(), d.Encoded())
		}
		if len(d.Encoded()) != d.Algorithm().Size()*2 {
			t.Fatalf("ParseDigest(%q): %d hex digits for a %d-byte hash", s, len(d.Encoded()), d.Algorithm().Size())
		}
	})
}

func FuzzParseReference(f *testing.F) {
	for _, s := range digestSeeds {
		f.Add(s)
	}
	for _, s := range []string{
		"latest",
		"v1.2.3",
		"_",
		"a",
		"-a",
		".a",
		"A_b-C.d",
		"tag with space",
		"tag/slash",
		"tag@x",
		"ä",
		strings.Repeat("t", 128),
		strings.Repeat("t", 129),
		"latest:",
		":latest",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := content.ParseReference(s)
		if err != nil {
			if r != (content.Reference{}) {
				t.Fatalf("ParseReference(%q) failed (%v) but returned %+v", s, err, r)
			}
			if !errors.Is(err, content.ErrTagInvalid) && !errors.Is(err, content.ErrDigestInvalid) {
				t.Fatalf("ParseReference(%q) = %v, want ErrTagInvalid or ErrDigestInvalid", s, err)
			}
		}
		if strings.Contains(s, ":") {
			// Only a digest may contain ":"; it must be exactly a digest.
			if ok := refDigest(s); ok != (err == nil) {
				t.Fatalf("ParseReference(%q) error %v, but the digest reference says valid=%v", s, err, ok)
			}
			if err == nil && (r.Tag != "" || r.Digest.String() != s || r.Digest.Validate() != nil) {
				t.Fatalf("ParseReference(%q) = %+v, want the digest itself", s, r)
			}
		} else {
			// Tags follow the reference grammar's tag exactly.
			if ok := anchoredTag.MatchString(s); ok != (err == nil) {
				t.Fatalf("ParseReference(%q) error %v, but reference.TagRegexp says valid=%v", s, err, ok)
			}
			if err == nil && (r.Digest != "" || r.Tag != s || !content.ValidTag(r.Tag)) {
				t.Fatalf("ParseReference(%q) = %+v, want the tag itself", s, r)
			}
		}
		if err == nil && r.String() != s {
			t.Fatalf("ParseReference(%q).String() = %q", s, r.String())
		}
	})
}
