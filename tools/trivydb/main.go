// Command trivydb builds a tiny Trivy vulnerability database bundle for
// offline tests: a gzip'd tar holding just trivy.db and metadata.json, the
// layout of Trivy's own db.tar.gz. Extract it into CACHE/db/ and run trivy
// with --cache-dir CACHE --skip-db-update (without it, trivy downloads a DB
// once NextUpdate, a day after -updated, has passed). Every advisory is for
// Alpine 3.20 ("alpine 3.20", source Alpine Secdb):
//
//	trivydb -out db.tar.gz [-updated 2026-12-01T00:00:00Z] \
//		-advisory CVE-2099-0001:musl:1.2.5-r1:HIGH [-advisory ...]
package main

import (
	"archive/tar"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aquasecurity/trivy-db/pkg/db"
	"github.com/aquasecurity/trivy-db/pkg/metadata"
	"github.com/aquasecurity/trivy-db/pkg/types"
	"github.com/aquasecurity/trivy-db/pkg/vulnsrc/vulnerability"
	bolt "go.etcd.io/bbolt"
)

const platform = "alpine 3.20"

type advisory struct {
	id, pkg, fixed string
	severity       types.Severity
}

type advisories []advisory

func (a *advisories) String() string { return fmt.Sprint(len(*a)) }

// Set parses ID:PKG:FIXED:SEVERITY; FIXED may hold colons or be empty.
func (a *advisories) Set(s string) error {
	parts := strings.Split(s, ":")
	if len(parts) < 4 || parts[0] == "" || parts[1] == "" {
		return fmt.Errorf("want ID:PKG:FIXED:SEVERITY, got %q", s)
	}
	sev, err := types.NewSeverity(strings.ToUpper(parts[len(parts)-1]))
	if err != nil {
		return err
	}
	*a = append(*a, advisory{
		id:       parts[0],
		pkg:      parts[1],
		fixed:    strings.Join(parts[2:len(parts)-1], ":"),
		severity: sev,
	})
	return nil
}

func main() {
	var advs advisories
	out := flag.String("out", "", "bundle to write (gzip'd tar)")
	updated := flag.String("updated", "", "UpdatedAt, RFC 3339 (default now); NextUpdate is a day later")
	flag.Var(&advs, "advisory", "ID:PKG:FIXED:SEVERITY for alpine 3.20 (repeatable)")
	flag.Parse()
	if *out == "" || len(advs) == 0 || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	at := time.Now().UTC().Truncate(time.Second)
	if *updated != "" {
		t, err := time.Parse(time.RFC3339, *updated)
		if err != nil {
			fatal(err)
		}
		at = t.UTC()
	}
	if err := build(*out, at, advs); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "trivydb:", err)
	os.Exit(1)
}

func build(out string, at time.Time, advs advisories) error {
	dir, err := os.MkdirTemp("", "trivydb")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := writeDB(dir, advs); err != nil {
		return err
	}
	meta := metadata.Metadata{
		Version:      db.SchemaVersion,
		NextUpdate:   at.Add(24 * time.Hour),
		UpdatedAt:    at,
		DownloadedAt: at,
	}
	if err := metadata.NewClient(dir).Update(meta); err != nil {
		return err
	}
	return writeBundle(out, dir, at)
}

func writeDB(dir string, advs advisories) error {
	if err := db.Init(dir); err != nil {
		return err
	}
	dbc := db.Config{}
	err := dbc.BatchUpdate(func(tx *bolt.Tx) error {
		src := types.DataSource{ID: vulnerability.Alpine, Name: "Alpine Secdb", URL: "https://secdb.alpinelinux.org/"}
		if err := dbc.PutDataSource(tx, platform, src); err != nil {
			return err
		}
		for _, a := range advs {
			if err := dbc.PutAdvisoryDetail(tx, a.id, a.pkg, []string{platform}, types.Advisory{FixedVersion: a.fixed}); err != nil {
				return err
			}
		}
		for _, a := range advs {
			if err := dbc.SaveAdvisoryDetails(tx, a.id); err != nil {
				return err
			}
			// Trivy picks the severity of the advisory's source (alpine);
			// Severity alone works too but is deprecated and warned about.
			v := types.Vulnerability{
				Title:          a.id + " in " + a.pkg,
				Description:    "A made-up vulnerability in " + a.pkg + " for tests.",
				Severity:       a.severity.String(),
				VendorSeverity: types.VendorSeverity{vulnerability.Alpine: a.severity},
				References:     []string{"https://example.invalid/" + a.id},
			}
			if err := dbc.PutVulnerability(tx, a.id, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return err
	}
	return db.Close()
}

// writeBundle writes dir's trivy.db and metadata.json as the only entries
// of a gzip'd tar, atomically.
func writeBundle(out, dir string, at time.Time) error {
	tmp, err := os.CreateTemp(filepath.Dir(out), ".trivydb-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	err = func() error {
		zw := gzip.NewWriter(tmp)
		tw := tar.NewWriter(zw)
		for _, name := range []string{"trivy.db", "metadata.json"} {
			if err := addFile(tw, filepath.Join(dir, name), name, at); err != nil {
				return err
			}
		}
		if err := tw.Close(); err != nil {
			return err
		}
		if err := zw.Close(); err != nil {
			return err
		}
		return tmp.Chmod(0o644)
	}()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

func addFile(tw *tar.Writer, path, name string, at time.Time) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: st.Size(), ModTime: at}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
}
