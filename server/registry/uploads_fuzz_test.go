package registry

import (
	"math"
	"regexp"
	"strconv"
	"testing"
)

var contentRangeSeeds = []string{
	"",
	"0-0",
	"0-99",
	"100-199",
	"bytes 0-99/100",
	"bytes 0-99/*",
	"bytes=0-99",
	"bytes */100",
	"-",
	"0-",
	"-5",
	"5-4",
	"+1-+2",
	"0--0",
	"0-9223372036854775807",
	"9223372036854775807-9223372036854775807",
	"9223372036854775808-9223372036854775809",
	" 1-2 ",
	"1 - 2",
	"0x1-0x2",
	"1.0-2.0",
	"1-2-3",
	"1-2/3/4",
	"bytes",
	"bytesbytes 1-2",
}

// strictRange is the grammar the OCI spec gives for an upload chunk's
// Content-Range: two decimal offsets and a dash.
var strictRange = regexp.MustCompile(`^([0-9]+)-([0-9]+)$`)

func FuzzParseContentRange(f *testing.F) {
	for _, s := range contentRangeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		start, end, ok := ParseContentRange(s)
		if !ok {
			if start != 0 || end != 0 {
				t.Fatalf("ParseContentRange(%q) refused but returned %d-%d", s, start, end)
			}
		} else {
			if start < 0 || end < start {
				t.Fatalf("ParseContentRange(%q) = %d-%d, want 0 <= start <= end", s, start, end)
			}
			// The canonical form, and the form some clients send, round-trip.
			for _, form := range []string{
				strconv.FormatInt(start, 10) + "-" + strconv.FormatInt(end, 10),
				"bytes " + strconv.FormatInt(start, 10) + "-" + strconv.FormatInt(end, 10) + "/*",
			} {
				s2, e2, ok2 := ParseContentRange(form)
				if !ok2 || s2 != start || e2 != end {
					t.Fatalf("ParseContentRange(%q) = %d-%d, but %q parses to %d-%d, %v", s, start, end, form, s2, e2, ok2)
				}
			}
		}
		// Agreement with the spec's grammar where it applies: a plain
		// "start-end" that fits int64 with start <= end is accepted as is.
		if m := strictRange.FindStringSubmatch(s); m != nil {
			a, err1 := strconv.ParseInt(m[1], 10, 64)
			b, err2 := strconv.ParseInt(m[2], 10, 64)
			want := err1 == nil && err2 == nil && a <= b && b < math.MaxInt64
			if ok != want || (ok && (start != a || end != b)) {
				t.Fatalf("ParseContentRange(%q) = %d-%d, %v; want %d-%d, %v", s, start, end, ok, a, b, want)
			}
		}
	})
}

func TestParseContentRange(t *testing.T) {
	valid := []struct {
		in         string
		start, end int64
	}{
		{"0-0", 0, 0},
		{"0-99", 0, 99},
		{"100-199", 100, 199},
		{"5-5", 5, 5},
		{" 10-20 ", 10, 20},
		{"bytes 0-99/100", 0, 99},
		{"bytes 0-99/*", 0, 99},
		{"bytes=0-99", 0, 99},
		{"bytes=100-199/1000", 100, 199},
		{"0-9223372036854775806", 0, math.MaxInt64 - 1},
	}
	for _, tc := range valid {
		start, end, ok := ParseContentRange(tc.in)
		if !ok || start != tc.start || end != tc.end {
			t.Errorf("ParseContentRange(%q) = %d, %d, %v; want %d, %d, true", tc.in, start, end, ok, tc.start, tc.end)
		}
	}
	invalid := []string{
		"",
		" ",
		"-",
		"0-",
		"-0",
		"-5",
		"5-",
		"5-4",
		"1-0",
		"a-b",
		"1-b",
		"0x1-0x2",
		"1.0-2.0",
		"1e3-2e3",
		"1 - 2",
		"1-2-3",
		"-1-5",
		"bytes",
		"bytes=",
		"bytes */100",
		"bytes=-5",
		"bytes 5-/10",
		"bytesbytes 1-2",
		"/0-1",
		"9223372036854775808-9223372036854775809",
		"0-9223372036854775808",
		"0-99,200-299",
		// An end of MaxInt64 would overflow the chunk length.
		"0-9223372036854775807",
		"9223372036854775807-9223372036854775807",
		// Signs are not digits.
		"+1-+2",
		"0--0",
		"0-+5",
	}
	for _, in := range invalid {
		if start, end, ok := ParseContentRange(in); ok {
			t.Errorf("ParseContentRange(%q) = %d, %d, true; want refused", in, start, end)
		}
	}
	// Forms outside the spec's grammar that the parser tolerates today
	// (strconv accepts a sign). A stricter parser may refuse them; if it
	// accepts them it must read them as written.
	tolerated := []struct {
		in         string
		start, end int64
	}{
		{"bytes0-5", 0, 5},
		{"007-010", 7, 10},
	}
	for _, tc := range tolerated {
		if start, end, ok := ParseContentRange(tc.in); ok && (start != tc.start || end != tc.end) {
			t.Errorf("ParseContentRange(%q) = %d, %d, true; want %d, %d (or refused)", tc.in, start, end, tc.start, tc.end)
		}
	}
}
