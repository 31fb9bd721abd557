package textcheck

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalid is what every refusal wraps.
var ErrInvalid = errors.New("invalid text")

// Kind is one kind of user text: what messages call it, the most bytes it
// may hold, and whether it may span lines.
type Kind struct {
	Name string
	Max  int
	// Multiline allows line feeds, carriage returns and tabs; no other
	// control character is ever allowed.
	Multiline bool
}

// Error says why a text was refused; its message is meant for the user.
type Error struct {
	Kind   string
	Reason string
}

func (e *Error) Error() string { return e.Kind + " " + e.Reason }

// Unwrap makes every refusal an ErrInvalid.
func (e *Error) Unwrap() error { return ErrInvalid }

// Check returns nil if s is a valid text of kind k, or an *Error. It
// checks the encoding before the length, so that a refusal names the
// worse problem.
func (k Kind) Check(s string) error {
	if !utf8.ValidString(s) {
		return &Error{Kind: k.Name, Reason: "must be valid UTF-8 text"}
	}
	for _, r := range s {
		if !unicode.IsControl(r) {
			continue
		}
		if k.Multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if k.Multiline {
			return &Error{Kind: k.Name, Reason: "must not contain NUL or control characters other than line breaks and tabs"}
		}
		return &Error{Kind: k.Name, Reason: "must be one line without NUL or control characters"}
	}
	if k.Max > 0 && len(s) > k.Max {
		return &Error{Kind: k.Name, Reason: fmt.Sprintf("must be at most %d bytes", k.Max)}
	}
	return nil
}

// Valid reports whether s passes Check.
func (k Kind) Valid(s string) bool { return k.Check(s) == nil }

// Key is text used only to look something up (a name or an id in a path
// or a query): invalid text finds nothing, and must never reach a
// database that would refuse it with an error of its own.
var Key = Kind{Name: "key", Max: 1024}

// Sentence is s as a message people read: trimmed, with a capital letter
// and a full stop (unless it ends in one of . ? !).
func Sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") && !strings.HasSuffix(s, "!") {
		s += "."
	}
	return s
}
