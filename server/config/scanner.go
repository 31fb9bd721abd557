package config

import (
	"fmt"
	"time"
)

// Scanner is how images are scanned for vulnerabilities.
type Scanner struct {
	// Trivy is the trivy binary ("" for trivy on PATH, if there is one).
	Trivy string
	// Interval rescans an image whose last scan is older (0: never).
	Interval time.Duration
}

var scannerSettings = []Setting{
	{Name: "scanner-trivy", Usage: "the trivy binary that scans images (default: trivy on PATH; scanning is off without one)", Def: "",
		set: str(func(c *Config) *string { return &c.Scanner.Trivy })},
	{Name: "scan-interval", Usage: "rescan an image whose last scan is older than this (0: only on push and on a database import)", Def: "24h",
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return fmt.Errorf("scan-interval must be 0 or a duration such as 24h, not %q", v)
			}
			c.Scanner.Interval = d
			return nil
		}},
}

// ScannerSettings are the settings of the scanner, for the commands that
// run it.
func ScannerSettings() []Setting { return scannerSettings }
