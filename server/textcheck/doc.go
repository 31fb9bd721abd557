// Package textcheck is the one validator of user-supplied text: every
// string a caller sends is valid UTF-8, free of NUL and control characters
// (line breaks and tabs only where a field spans lines), and within its length.
package textcheck
