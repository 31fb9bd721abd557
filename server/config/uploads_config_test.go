package config_test

import (
	"io"
	"testing"

	"github.com/wharfhub/wharf/server/config"
)

// --max-open-uploads defaults to 100, reads WHARF_MAX_OPEN_UPLOADS, and
// takes only a positive number.
func TestMaxOpenUploads(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  string
		want int
		bad  bool
	}{
		{"default", nil, "", 100, false},
		{"from the environment", nil, "7", 7, false},
		{"the flag beats the environment", []string{"--max-open-uploads", "3"}, "7", 3, false},
		{"zero is refused", []string{"--max-open-uploads", "0"}, "", 0, true},
		{"a word is refused", nil, "many", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == "WHARF_MAX_OPEN_UPLOADS" {
					return tc.env
				}
				return ""
			}
			c, _, err := config.Load("serve", config.ServeSettings, tc.args, getenv, io.Discard, nil)
			if tc.bad {
				if err == nil {
					t.Fatalf("accepted, MaxOpenUploads %d", c.MaxOpenUploads)
				}
				return
			}
			if err != nil || c.MaxOpenUploads != tc.want {
				t.Fatalf("got %+v %v, want %d", c, err, tc.want)
			}
		})
	}
}
