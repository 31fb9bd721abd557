package scan

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wharfhub/wharf/models"
)

// trivyAlpineReport is a Trivy schema-2 report of an Alpine image with an
// npm lock file, as `trivy image --format json --list-all-pkgs` writes it
// (trimmed), with the oddities parseTrivyReport must cope with: a
// vulnerability listed twice, a severity in mixed case and one it does
// not know, links it must not keep, and entries without an id or a
// package.
const trivyAlpineReport = `{
  "SchemaVersion": 2,
  "CreatedAt": "2026-12-01T10:00:00.123456789Z",
  "ArtifactName": "127.0.0.1:5000/alice/app@sha256:4bc453b53cb3d914b45f4b250294236adba2c0e09ff6f03793949e7e39fd4cc1",
  "ArtifactType": "container_image",
  "Metadata": {
    "OS": {"Family": "alpine", "Name": "3.19.1"},
    "ImageID": "sha256:05455a08881ea9cf0e752bc48e61bbd71a34c029bb13df01e40e3e70e0d007bd",
    "RepoDigests": ["127.0.0.1:5000/alice/app@sha256:4bc453b53cb3d914b45f4b250294236adba2c0e09ff6f03793949e7e39fd4cc1"]
  },
  "Results": [
    {
      "Target": "127.0.0.1:5000/alice/app@sha256:4bc453b5 (alpine 3.19.1)",
      "Class": "os-pkgs",
      "Type": "alpine",
      "Packages": [
        {"ID": "busybox@1.36.1-r15", "Name": "busybox", "Version": "1.36.1-r15", "Arch": "x86_64", "Licenses": ["GPL-2.0-only"]},
        {"ID": "libcrypto3@3.1.4-r2", "Name": "libcrypto3", "Version": "3.1.4-r2", "Arch": "x86_64"},
        {"ID": "libssl3@3.1.4-r2", "Name": "libssl3", "Version": "3.1.4-r2", "Arch": "x86_64"},
        {"ID": "zlib@1.3.1-r0", "Name": "zlib", "Version": "1.3.1-r0", "Arch": "x86_64"}
      ],
      "Vulnerabilities": [
        {
          "VulnerabilityID": "CVE-2024-0727",
          "PkgID": "libcrypto3@3.1.4-r2",
          "PkgName": "libcrypto3",
          "PkgIdentifier": {"PURL": "pkg:apk/alpine/libcrypto3@3.1.4-r2?arch=x86_64&distro=3.19.1"},
          "InstalledVersion": "3.1.4-r2",
          "FixedVersion": "3.1.4-r5",
          "Status": "fixed",
          "Layer": {"Digest": "sha256:4abcf20661432fb2d719aaf90656f55c287f8ca915dc1c92ec14ff61e67fbaf8"},
          "SeveritySource": "nvd",
          "PrimaryURL": "https://avd.aquasec.com/nvd/cve-2024-0727",
          "DataSource": {"ID": "alpine", "Name": "Alpine Secdb", "URL": "https://secdb.alpinelinux.org/"},
          "Title": "openssl: denial of service via null dereference",
          "Description": "Processing a maliciously formatted PKCS12 file may lead OpenSSL to crash.",
          "Severity": "MEDIUM",
          "CweIDs": ["CWE-476"],
          "CVSS": {"nvd": {"V3Vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H", "V3Score": 5.5}},
          "References": ["https://www.openssl.org/news/secadv/20240125.txt"],
          "PublishedDate": "2024-01-26T09:15:07.45Z",
          "LastModifiedDate": "2024-02-08T10:15:13.7Z"
        },
        {
          "VulnerabilityID": "CVE-2024-0727",
          "PkgID": "libcrypto3@3.1.4-r2",
          "PkgName": "libcrypto3",
          "InstalledVersion": "3.1.4-r2",
          "FixedVersion": "3.1.4-r5",
          "Severity": "MEDIUM",
          "Title": "openssl: denial of service via null dereference (listed again)",
          "PrimaryURL": "https://avd.aquasec.com/nvd/cve-2024-0727"
        },
        {
          "VulnerabilityID": "CVE-2024-0727",
          "PkgName": "libssl3",
          "InstalledVersion": "3.1.4-r2",
          "FixedVersion": "3.1.4-r5",
          "Severity": "MEDIUM",
          "Title": "openssl: denial of service via null dereference",
          "PrimaryURL": "javascript:alert(document.cookie)",
          "References": ["ftp://ftp.openssl.org/advisory.txt", "https://github.com/openssl/openssl/commit/09df4395b5071217b76dc7d3d2e630eb8c5a79c2"]
        },
        {
          "VulnerabilityID": "CVE-2023-42363",
          "PkgName": "busybox",
          "InstalledVersion": "1.36.1-r15",
          "FixedVersion": "",
          "Severity": " High ",
          "Title": "busybox: use-after-free in awk",
          "PrimaryURL": "https://avd.aquasec.com/nvd/cve-2023-42363\" onmouseover=\"alert(1)",
          "References": ["https://bugs.busybox.net/show_bug.cgi?id=15865"]
        },
        {
          "VulnerabilityID": "CVE-2023-6237",
          "PkgName": "libcrypto3",
          "InstalledVersion": "3.1.4-r2",
          "FixedVersion": "3.1.4-r4",
          "Severity": "UNKNOWN",
          "Title": "openssl: excessive time spent checking invalid RSA public keys"
        },
        {
          "VulnerabilityID": "CVE-2025-0001",
          "PkgName": "zlib",
          "InstalledVersion": "1.3.1-r0",
          "Severity": "NEGLIGIBLE",
          "PrimaryURL": "http://cve.example.org/CVE-2025-0001"
        },
        {"VulnerabilityID": "", "PkgName": "zlib", "InstalledVersion": "1.3.1-r0", "Severity": "CRITICAL"},
        {"VulnerabilityID": "CVE-2025-0002", "PkgName": "", "InstalledVersion": "1.3.1-r0", "Severity": "CRITICAL"}
      ]
    },
    {
      "Target": "app/package-lock.json",
      "Class": "lang-pkgs",
      "Type": "npm",
      "Packages": [
        {"ID": "express@4.18.2", "Name": "express", "Version": "4.18.2"},
        {"ID": "lodash@4.17.20", "Name": "lodash", "Version": "4.17.20"},
        {"ID": "lodash@4.17.11", "Name": "lodash", "Version": "4.17.11"}
      ],
      "Vulnerabilities": [
        {
          "VulnerabilityID": "CVE-2021-23337",
          "PkgName": "lodash",
          "InstalledVersion": "4.17.20",
          "FixedVersion": "4.17.21",
          "Severity": "HIGH",
          "Title": "nodejs-lodash: command injection via template",
          "PrimaryURL": "https://avd.aquasec.com/nvd/cve-2021-23337"
        },
        {
          "VulnerabilityID": "CVE-2021-23337",
          "PkgName": "lodash",
          "InstalledVersion": "4.17.11",
          "FixedVersion": "4.17.21",
          "Severity": "HIGH",
          "Title": "nodejs-lodash: command injection via template",
          "PrimaryURL": "https://avd.aquasec.com/nvd/cve-2021-23337"
        },
        {
          "VulnerabilityID": "CVE-2024-0727",
          "PkgName": "libcrypto3",
          "InstalledVersion": "3.1.4-r2",
          "Severity": "critical",
          "Title": "the same id, package and version in another target"
        }
      ]
    },
    {
      "Target": "usr/local/bin/app",
      "Class": "lang-pkgs",
      "Type": "gobinary"
    }
  ]
}`

func TestParseTrivyReport(t *testing.T) {
	findings, packages, err := parseTrivyReport([]byte(trivyAlpineReport))
	if err != nil {
		t.Fatal(err)
	}
	if packages != 7 {
		t.Errorf("packages = %d, want 7 (4 in the OS, 3 in the lock file)", packages)
	}
	const (
		osTarget  = "127.0.0.1:5000/alice/app@sha256:4bc453b5 (alpine 3.19.1)"
		npmTarget = "app/package-lock.json"
	)
	want := []models.Finding{
		{VulnerabilityID: "CVE-2024-0727", Package: "libcrypto3", Installed: "3.1.4-r2", Fixed: "3.1.4-r5", Severity: "medium",
			Title: "openssl: denial of service via null dereference", URL: "https://avd.aquasec.com/nvd/cve-2024-0727", Target: osTarget},
		// javascript: is refused, ftp: too: the first http(s) reference.
		{VulnerabilityID: "CVE-2024-0727", Package: "libssl3", Installed: "3.1.4-r2", Fixed: "3.1.4-r5", Severity: "medium",
			Title: "openssl: denial of service via null dereference",
			URL:   "https://github.com/openssl/openssl/commit/09df4395b5071217b76dc7d3d2e630eb8c5a79c2", Target: osTarget},
		// A primary URL with quotes and spaces is refused.
		{VulnerabilityID: "CVE-2023-42363", Package: "busybox", Installed: "1.36.1-r15", Severity: "high",
			Title: "busybox: use-after-free in awk", URL: "https://bugs.busybox.net/show_bug.cgi?id=15865", Target: osTarget},
		{VulnerabilityID: "CVE-2023-6237", Package: "libcrypto3", Installed: "3.1.4-r2", Fixed: "3.1.4-r4", Severity: "unknown",
			Title: "openssl: excessive time spent checking invalid RSA public keys", Target: osTarget},
		{VulnerabilityID: "CVE-2025-0001", Package: "zlib", Installed: "1.3.1-r0", Severity: "unknown",
			URL: "http://cve.example.org/CVE-2025-0001", Target: osTarget},
		{VulnerabilityID: "CVE-2021-23337", Package: "lodash", Installed: "4.17.20", Fixed: "4.17.21", Severity: "high",
			Title: "nodejs-lodash: command injection via template", URL: "https://avd.aquasec.com/nvd/cve-2021-23337", Target: npmTarget},
		{VulnerabilityID: "CVE-2021-23337", Package: "lodash", Installed: "4.17.11", Fixed: "4.17.21", Severity: "high",
			Title: "nodejs-lodash: command injection via template", URL: "https://avd.aquasec.com/nvd/cve-2021-23337", Target: npmTarget},
		{VulnerabilityID: "CVE-2024-0727", Package: "libcrypto3", Installed: "3.1.4-r2", Severity: "critical",
			Title: "the same id, package and version in another target", Target: npmTarget},
	}
	if !slices.Equal(findings, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", dump(findings), dump(want))
	}
}

func dump(fs []models.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %+v\n", f)
	}
	return b.String()
}

// vuln is one vulnerability of a one-result report.
type vuln struct {
	VulnerabilityID  string   `json:"VulnerabilityID"`
	PkgName          string   `json:"PkgName"`
	InstalledVersion string   `json:"InstalledVersion,omitempty"`
	FixedVersion     string   `json:"FixedVersion,omitempty"`
	Severity         string   `json:"Severity,omitempty"`
	Title            string   `json:"Title,omitempty"`
	PrimaryURL       string   `json:"PrimaryURL,omitempty"`
	References       []string `json:"References,omitempty"`
}

// report is a schema-2 report of vs found in target.
func report(t testing.TB, target string, vs ...vuln) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"SchemaVersion": 2,
		"Results": []map[string]any{{
			"Target": target, "Class": "os-pkgs", "Type": "debian", "Vulnerabilities": vs,
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parseOne parses a report of v alone and returns its one finding.
func parseOne(t *testing.T, target string, v vuln) models.Finding {
	t.Helper()
	fs, _, err := parseTrivyReport(report(t, target, v))
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 {
		t.Fatalf("%d findings, want 1: %+v", len(fs), fs)
	}
	return fs[0]
}

func TestSeverities(t *testing.T) {
	for in, want := range map[string]string{
		"CRITICAL": "critical", "HIGH": "high", "MEDIUM": "medium", "LOW": "low",
		"Critical": "critical", " low\n": "low",
		"UNKNOWN": "unknown", "": "unknown", "NEGLIGIBLE": "unknown", "severe": "unknown", "4": "unknown",
		"unknown": "unknown", "HIGHEST": "unknown",
	} {
		f := parseOne(t, "debian 12", vuln{VulnerabilityID: "CVE-2024-1", PkgName: "bash", Severity: in})
		if f.Severity != want {
			t.Errorf("severity %q: %q, want %q", in, f.Severity, want)
		}
	}
}

func TestLinks(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("a", 1024)
	tests := []struct {
		name    string
		primary string
		refs    []string
		want    string
	}{
		{"https primary", "https://avd.aquasec.com/nvd/cve-2024-1", []string{"https://other.example/"}, "https://avd.aquasec.com/nvd/cve-2024-1"},
		{"http primary", "http://security-tracker.debian.org/tracker/CVE-2024-1", nil, "http://security-tracker.debian.org/tracker/CVE-2024-1"},
		{"none", "", nil, ""},
		{"javascript, no reference", "javascript:alert(1)", nil, ""},
		{"javascript, then a reference", "javascript:alert(1)", []string{"https://ref.example/a"}, "https://ref.example/a"},
		{"data: URL", "data:text/html,<script>alert(1)</script>", []string{"https://ref.example/b"}, "https://ref.example/b"},
		{"scheme in upper case", "HTTPS://example.com/", nil, ""},
		{"no scheme", "avd.aquasec.com/nvd/cve-2024-1", nil, ""},
		{"scheme not at the start", " https://example.com/", nil, ""},
		{"double quote", `https://example.com/"onclick="x`, nil, ""},
		{"single quote", `https://example.com/'x`, nil, ""},
		{"space", "https://example.com/a b", nil, ""},
		{"tab", "https://example.com/a\tb", nil, ""},
		{"newline", "https://example.com/a\nb", nil, ""},
		{"carriage return", "https://example.com/a\rb", nil, ""},
		{"angle brackets", "https://example.com/<script>", nil, ""},
		{"too long, then a short reference", long, []string{"https://ref.example/c"}, "https://ref.example/c"},
		{"1024 bytes is kept", long[:1024], nil, long[:1024]},
		{"first good reference", "", []string{"javascript:x", "https://a.example/ x", "https://b.example/", "https://c.example/"}, "https://b.example/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := parseOne(t, "debian 12", vuln{VulnerabilityID: "CVE-2024-1", PkgName: "bash", PrimaryURL: tc.primary, References: tc.refs})
			if f.URL != tc.want {
				t.Errorf("URL = %q, want %q", f.URL, tc.want)
			}
		})
	}
}

func TestDuplicatesDropped(t *testing.T) {
	base := vuln{VulnerabilityID: "CVE-2024-1", PkgName: "bash", InstalledVersion: "5.2-1", Severity: "LOW", Title: "first"}
	tests := []struct {
		name   string
		second vuln
		kept   int
	}{
		{"same target, id, package and version", vuln{VulnerabilityID: "CVE-2024-1", PkgName: "bash", InstalledVersion: "5.2-1", Severity: "HIGH", Title: "second"}, 1},
		{"another id", vuln{VulnerabilityID: "CVE-2024-2", PkgName: "bash", InstalledVersion: "5.2-1"}, 2},
		{"another package", vuln{VulnerabilityID: "CVE-2024-1", PkgName: "zsh", InstalledVersion: "5.2-1"}, 2},
		{"another version", vuln{VulnerabilityID: "CVE-2024-1", PkgName: "bash", InstalledVersion: "5.2-2"}, 2},
		{"the same but for the fixed version", vuln{VulnerabilityID: "CVE-2024-1", PkgName: "bash", InstalledVersion: "5.2-1", FixedVersion: "5.2-3"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs, _, err := parseTrivyReport(report(t, "debian 12", base, tc.second))
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) != tc.kept {
				t.Fatalf("%d findings, want %d: %+v", len(fs), tc.kept, fs)
			}
			if fs[0].Title != "first" || fs[0].Severity != "low" {
				t.Errorf("the first listed is not the one kept: %+v", fs[0])
			}
		})
	}
}

// Long fields are clipped to their column's bound, on a rune boundary:
// what is stored is valid UTF-8 and as long as the bound allows.
func TestLongFieldsClipped(t *testing.T) {
	fields := []struct {
		name  string
		limit int
		set   func(v *vuln, target *string, s string)
		get   func(models.Finding) string
	}{
		{"id", 128, func(v *vuln, _ *string, s string) { v.VulnerabilityID = s }, func(f models.Finding) string { return f.VulnerabilityID }},
		{"package", 256, func(v *vuln, _ *string, s string) { v.PkgName = s }, func(f models.Finding) string { return f.Package }},
		{"installed", 256, func(v *vuln, _ *string, s string) { v.InstalledVersion = s }, func(f models.Finding) string { return f.Installed }},
		{"fixed", 512, func(v *vuln, _ *string, s string) { v.FixedVersion = s }, func(f models.Finding) string { return f.Fixed }},
		{"title", 512, func(v *vuln, _ *string, s string) { v.Title = s }, func(f models.Finding) string { return f.Title }},
		{"target", 512, func(_ *vuln, target *string, s string) { *target = s }, func(f models.Finding) string { return f.Target }},
	}
	// Runes of each width, with a one-byte lead so that every width
	// straddles the bound somewhere.
	values := map[string]string{
		"ascii":          strings.Repeat("a", 2000),
		"2-byte runes":   "x" + strings.Repeat("é", 1000),
		"3-byte runes":   "x" + strings.Repeat("€", 700),
		"4-byte runes":   "x" + strings.Repeat("😀", 500),
		"4-byte, offset": "xy" + strings.Repeat("😀", 500),
		"mixed":          strings.Repeat("aé€😀", 300),
	}
	for _, fd := range fields {
		for vname, long := range values {
			t.Run(fd.name+"/"+vname, func(t *testing.T) {
				v := vuln{VulnerabilityID: "CVE-2024-1", PkgName: "bash"}
				target := "debian 12"
				fd.set(&v, &target, long)
				got := fd.get(parseOne(t, target, v))
				switch {
				case !utf8.ValidString(got):
					t.Errorf("clipped to invalid UTF-8: %q", got[max(0, len(got)-8):])
				case len(got) > fd.limit:
					t.Errorf("%d bytes, more than %d", len(got), fd.limit)
				case len(got) <= fd.limit-utf8.UTFMax:
					t.Errorf("%d bytes, clipped more than a rune short of %d", len(got), fd.limit)
				case !strings.HasPrefix(long, got):
					t.Errorf("not a prefix of the field")
				}
			})
		}
		t.Run(fd.name+"/at the bound", func(t *testing.T) {
			v := vuln{VulnerabilityID: "CVE-2024-1", PkgName: "bash"}
			target := "debian 12"
			exact := strings.Repeat("€", fd.limit/3) + strings.Repeat("a", fd.limit%3)
			fd.set(&v, &target, exact)
			if got := fd.get(parseOne(t, target, v)); got != exact {
				t.Errorf("a field of exactly %d bytes was changed to %d bytes", fd.limit, len(got))
			}
		})
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"", 4, ""},
		{"abc", 3, "abc"},
		{"abcd", 3, "abc"},
		{"aé", 2, "a"},
		{"aé", 3, "aé"},
		{"€", 2, ""},
		{"a😀", 4, "a"},
		{"a😀b", 5, "a😀"},
		{"😀😀", 7, "😀"},
		{"abc", 0, ""},
	}
	for _, tc := range tests {
		if got := clip(tc.s, tc.n); got != tc.want {
			t.Errorf("clip(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}

func TestReportsRefused(t *testing.T) {
	tests := []struct {
		name, report string
	}{
		{"schema version 1", `{"SchemaVersion": 1, "Results": [{"Target": "x", "Vulnerabilities": [{"VulnerabilityID": "CVE-1", "PkgName": "p"}]}]}`},
		{"schema version 3", `{"SchemaVersion": 3, "Results": []}`},
		{"no schema version", `{"Results": []}`},
		{"schema version as a string", `{"SchemaVersion": "2", "Results": []}`},
		{"a version 1 report (a list of results)", `[{"Target": "x", "Vulnerabilities": [{"VulnerabilityID": "CVE-1", "PkgName": "p"}]}]`},
		{"null", `null`},
		{"empty", ``},
		{"not JSON", `Total: 3 (HIGH: 2, CRITICAL: 1)`},
		{"truncated", trivyAlpineReport[:len(trivyAlpineReport)/2]},
		{"trailing garbage", `{"SchemaVersion": 2} {"SchemaVersion": 2}`},
		{"results not a list", `{"SchemaVersion": 2, "Results": {"Target": "x"}}`},
		{"an id that is not a string", `{"SchemaVersion": 2, "Results": [{"Vulnerabilities": [{"VulnerabilityID": 7, "PkgName": "p"}]}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs, n, err := parseTrivyReport([]byte(tc.report))
			if err == nil {
				t.Fatalf("accepted: %d findings, %d packages", len(fs), n)
			}
			if fs != nil || n != 0 {
				t.Errorf("refused, yet %d findings and %d packages", len(fs), n)
			}
		})
	}
	// The smallest report it takes.
	fs, n, err := parseTrivyReport([]byte(`{"SchemaVersion": 2}`))
	if err != nil || len(fs) != 0 || n != 0 {
		t.Errorf("an empty schema-2 report: %v, %d, %v", fs, n, err)
	}
}

// A report of more than maxFindings keeps the most severe, each severity
// in the report's order.
func TestMostSevereKept(t *testing.T) {
	var vs []vuln
	add := func(n int, sev string) {
		for range n {
			vs = append(vs, vuln{VulnerabilityID: fmt.Sprintf("CVE-2024-%d", len(vs)), PkgName: "pkg", Severity: sev})
		}
	}
	// The least severe first, so that keeping the first maxFindings
	// would keep the wrong ones.
	add(10, "UNKNOWN")
	add(maxFindings-20, "LOW")
	add(10, "MEDIUM")
	add(5, "HIGH")
	add(10, "LOW")
	add(3, "CRITICAL")
	add(7, "HIGH")
	add(10, "NEGLIGIBLE")
	fs, _, err := parseTrivyReport(report(t, "debian 12", vs...))
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != maxFindings {
		t.Fatalf("%d findings, want %d", len(fs), maxFindings)
	}
	var c models.SeverityCounts
	for _, f := range fs {
		c.Add(f.Severity)
	}
	want := models.SeverityCounts{Critical: 3, High: 12, Medium: 10, Low: maxFindings - 25}
	if c != want {
		t.Errorf("counts %+v, want %+v", c, want)
	}
	for i := 1; i < len(fs); i++ {
		a, b := fs[i-1], fs[i]
		ra, rb := models.SeverityRank(a.Severity), models.SeverityRank(b.Severity)
		if ra < rb || ra == rb && idNumber(a) > idNumber(b) {
			t.Fatalf("finding %d (%s %s) before finding %d (%s %s)", i-1, a.VulnerabilityID, a.Severity, i, b.VulnerabilityID, b.Severity)
		}
	}
	// Exactly maxFindings is kept as it is.
	fs, _, err = parseTrivyReport(report(t, "debian 12", vs[:maxFindings]...))
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != maxFindings || fs[0].Severity != "unknown" || fs[maxFindings-1].VulnerabilityID != vs[maxFindings-1].VulnerabilityID {
		t.Errorf("a report of exactly maxFindings was reordered or cut: %d findings, first %+v", len(fs), fs[0])
	}
}

func idNumber(f models.Finding) int {
	var n int
	fmt.Sscanf(f.VulnerabilityID, "CVE-2024-%d", &n)
	return n
}

// FuzzTrivyReport: no report makes the parser panic, and whatever it
// accepts is fit to store: an id and a package, a known severity, valid
// UTF-8 within the column bounds, a safe link, at most maxFindings.
func FuzzTrivyReport(f *testing.F) {
	// Small seeds (the whole realistic report is TestParseTrivyReport's),
	// so that minimizing what the fuzzer finds does not take its time.
	f.Add([]byte(`{"SchemaVersion":2,"Results":[{"Target":"alpine 3.19","Class":"os-pkgs","Type":"alpine","Packages":[{"Name":"zlib"}],` +
		`"Vulnerabilities":[{"VulnerabilityID":"CVE-2024-0727","PkgName":"libcrypto3","InstalledVersion":"3.1.4-r2","FixedVersion":"3.1.4-r5",` +
		`"Severity":"MEDIUM","Title":"openssl: dos","PrimaryURL":"https://avd.aquasec.com/nvd/cve-2024-0727","References":["https://a.example/"]}]}]}`))
	f.Add([]byte(`{"SchemaVersion": 2}`))
	f.Add([]byte(`{"SchemaVersion": 1}`))
	f.Add([]byte(`{"SchemaVersion":2,"Results":[{"Target":"t","Packages":[{}],"Vulnerabilities":[{"VulnerabilityID":"CVE-1","PkgName":"p","Severity":"HIGH","PrimaryURL":"javascript:x","References":["https://a"]}]}]}`))
	f.Add([]byte("{\"SchemaVersion\":2,\"Results\":[{\"Vulnerabilities\":[{\"VulnerabilityID\":\"\\ud800\",\"PkgName\":\"\xff\xfe\",\"Title\":\"😀😀\"}]}]}"))
	f.Add([]byte(`{"SchemaVersion":2,"Results":null}`))
	known := append(slices.Clone(models.Severities), "unknown")
	f.Fuzz(func(t *testing.T, b []byte) {
		fs, packages, err := parseTrivyReport(b)
		if err != nil {
			if fs != nil || packages != 0 {
				t.Fatalf("refused (%v), yet %d findings, %d packages", err, len(fs), packages)
			}
			return
		}
		if packages < 0 || len(fs) > maxFindings {
			t.Fatalf("%d packages, %d findings", packages, len(fs))
		}
		for i, x := range fs {
			if x.VulnerabilityID == "" || x.Package == "" {
				t.Fatalf("finding %d has no id or package: %+v", i, x)
			}
			if !slices.Contains(known, x.Severity) {
				t.Fatalf("finding %d: severity %q", i, x.Severity)
			}
			// encoding/json makes every string it decodes valid UTF-8
			// (U+FFFD for bad bytes), so clipping must keep it so.
			for _, s := range []struct {
				v     string
				limit int
			}{{x.VulnerabilityID, 128}, {x.Package, 256}, {x.Installed, 256}, {x.Fixed, 512}, {x.Title, 512}, {x.Target, 512}, {x.URL, 1024}} {
				if !utf8.ValidString(s.v) || len(s.v) > s.limit {
					t.Fatalf("finding %d: field %q (%d bytes, bound %d)", i, s.v, len(s.v), s.limit)
				}
			}
			if x.URL != "" && (!strings.HasPrefix(x.URL, "https://") && !strings.HasPrefix(x.URL, "http://") ||
				strings.ContainsAny(x.URL, " \t\r\n\"'<>")) {
				t.Fatalf("finding %d: URL %q", i, x.URL)
			}
		}
	})
}
