package textcheck_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/wharfhub/wharf/server/textcheck"
)

func TestCheck(t *testing.T) {
	line := textcheck.Kind{Name: "name", Max: 10}
	lines := textcheck.Kind{Name: "body", Max: 10, Multiline: true}
	tests := []struct {
		name string
		kind textcheck.Kind
		in   string
		ok   bool
	}{
		{"plain text passes", line, "hello", true},
		{"empty text passes (fields decide if they need one)", line, "", true},
		{"non-ASCII letters pass", line, "grüße", true},
		{"exactly the limit passes", line, strings.Repeat("a", 10), true},
		{"one byte over the limit fails", line, strings.Repeat("a", 11), false},
		{"the limit counts bytes, not characters", line, strings.Repeat("ü", 6), false},
		{"NUL fails", line, "a\x00b", false},
		{"NUL fails in multi-line text too", lines, "a\x00b", false},
		{"invalid UTF-8 fails", line, "a\xffb", false},
		{"a lone continuation byte fails", lines, "\x80", false},
		{"a line feed fails in one-line text", line, "a\nb", false},
		{"a tab fails in one-line text", line, "a\tb", false},
		{"line feeds, returns and tabs pass in multi-line text", lines, "a\r\n\tb", true},
		{"escape fails in multi-line text", lines, "\x1b[31m", false},
		{"DEL fails", lines, "a\x7fb", false},
		{"C1 controls fail", lines, "a\u0085b", false},
		{"no limit when Max is 0", textcheck.Kind{Name: "x"}, strings.Repeat("a", 1<<16), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.kind.Check(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("Check(%q) = %v, want ok=%v", tc.in, err, tc.ok)
			}
			if err != nil {
				var te *textcheck.Error
				if !errors.As(err, &te) || !errors.Is(err, textcheck.ErrInvalid) || !strings.HasPrefix(err.Error(), tc.kind.Name+" ") {
					t.Fatalf("refusal %v is not a named textcheck.Error", err)
				}
			}
			if tc.kind.Valid(tc.in) != tc.ok {
				t.Fatalf("Valid disagrees with Check")
			}
		})
	}
}

func TestSentence(t *testing.T) {
	for in, want := range map[string]string{
		"":                    "",
		"  no such thing ":    "No such thing.",
		"Done.":               "Done.",
		"really?":             "Really?",
		"élan is gone":        "Élan is gone.",
		"there is no user x!": "There is no user x!",
	} {
		if got := textcheck.Sentence(in); got != want {
			t.Errorf("Sentence(%q) = %q, want %q", in, got, want)
		}
	}
}
