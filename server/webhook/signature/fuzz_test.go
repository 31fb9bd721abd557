package signature

import (
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that what it accepts is exactly
// its canonical form (so one signature has one spelling), and that Verify
// accepts a random header only if it carries the real signature.
func FuzzParse(f *testing.F) {
	for _, s := range []string{vecHeader, vecHeader + "," + vecHeader[len("t=1700000000,"):], "t=0,v1=", "t=1,v1=zz", "", ",", "t=", "v1=00", "t=1700000000, v1=00"} {
		f.Add(s)
	}
	body := []byte(vecBody)
	want := vecHeader[len("t=1700000000,"):]
	f.Fuzz(func(t *testing.T, header string) {
		s, err := Parse(header)
		if err == nil {
			if s.String() != header {
				t.Fatalf("Parse(%q) accepted a non-canonical form of %q", header, s.String())
			}
			if len(s.V1) == 0 || len(s.V1) > MaxSignatures || s.Timestamp < 0 {
				t.Fatalf("Parse(%q) = %+v", header, s)
			}
		}
		if _, err := Verify(vecSecret, header, vecID, "push", body, vecTime, 0); err == nil {
			if s.Timestamp != vecTime.Unix() || !containsPart(header, want) {
				t.Fatalf("Verify accepted %q", header)
			}
		}
	})
}

func containsPart(header, part string) bool {
	for _, p := range strings.Split(header, ",") {
		if p == part {
			return true
		}
	}
	return false
}
