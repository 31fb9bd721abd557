package scan

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/wharfhub/wharf/models"
)

// maxFindings bounds what one scan records; a report with more is kept
// to its most severe.
const maxFindings = 20000

// trivyReport is the part of Trivy's JSON report (schema 2) a scan
// reads.
type trivyReport struct {
	SchemaVersion int `json:"SchemaVersion"`
	Results       []struct {
		Target          string `json:"Target"`
		Class           string `json:"Class"`
		Type            string `json:"Type"`
		Packages        []json.RawMessage
		Vulnerabilities []struct {
			VulnerabilityID  string `json:"VulnerabilityID"`
			PkgName          string `json:"PkgName"`
			InstalledVersion string `json:"InstalledVersion"`
			FixedVersion     string `json:"FixedVersion"`
			Severity         string `json:"Severity"`
			Title            string `json:"Title"`
			PrimaryURL       string `json:"PrimaryURL"`
			References       []string
		} `json:"Vulnerabilities"`
	} `json:"Results"`
}

// parseTrivyReport reads the findings of a Trivy JSON report, and how
// many packages it listed.
func parseTrivyReport(b []byte) ([]models.Finding, int, error) {
	var r trivyReport
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, 0, fmt.Errorf("trivy report: %w", err)
	}
	if r.SchemaVersion != 2 {
		return nil, 0, fmt.Errorf("trivy report: schema version %d, not 2", r.SchemaVersion)
	}
	var out []models.Finding
	packages := 0
	seen := map[[4]string]bool{}
	for _, res := range r.Results {
		packages += len(res.Packages)
		for _, v := range res.Vulnerabilities {
			if v.VulnerabilityID == "" || v.PkgName == "" {
				continue
			}
			key := [4]string{res.Target, v.VulnerabilityID, v.PkgName, v.InstalledVersion}
			if seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, models.Finding{
				VulnerabilityID: clip(v.VulnerabilityID, 128),
				Package:         clip(v.PkgName, 256),
				Installed:       clip(v.InstalledVersion, 256),
				Fixed:           clip(v.FixedVersion, 512),
				Severity:        severity(v.Severity),
				Title:           clip(v.Title, 512),
				URL:             link(v.PrimaryURL, v.References),
				Target:          clip(res.Target, 512),
			})
		}
	}
	if len(out) > maxFindings {
		ranked := func(f models.Finding) int { return models.SeverityRank(f.Severity) }
		// Keep the most severe: a stable partition by rank, highest first.
		var kept []models.Finding
		for r := len(models.Severities); r >= 0 && len(kept) < maxFindings; r-- {
			for _, f := range out {
				if ranked(f) == r && len(kept) < maxFindings {
					kept = append(kept, f)
				}
			}
		}
		out = kept
	}
	return out, packages, nil
}

// severity maps Trivy's severity to Wharf's: lower case, and "unknown"
// for anything but the four known ones.
func severity(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if models.SeverityRank(s) == 0 {
		return "unknown"
	}
	return s
}

// link is the finding's URL, if it is an http(s) one: the primary URL,
// else the first reference.
func link(primary string, refs []string) string {
	for _, u := range append([]string{primary}, refs...) {
		if (strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) && len(u) <= 1024 &&
			!strings.ContainsAny(u, " \t\r\n\"'<>") {
			return u
		}
	}
	return ""
}

// clip bounds s to n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
