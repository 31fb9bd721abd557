package scan

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"log/slog"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/storage/filesystem"
	"github.com/wharfhub/wharf/server/testutil"
)

// entry is one entry of a test bundle's tar.
type entry struct {
	name string
	typ  byte // tar.TypeReg if 0
	body string
	link string
}

// tarOf is a tar of entries.
func tarOf(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, ModTime: at, Linkname: e.link}
		switch e.typ {
		case 0:
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.body))
		case tar.TypeDir:
			h.Mode = 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gzipOf(t testing.TB, b []byte) []byte {
	t.Helper()
	return gzipLevel(t, b, gzip.DefaultCompression)
}

func gzipLevel(t testing.TB, b []byte, level int) []byte {
	t.Helper()
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, level)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// storedGzip wraps b in a gzip member of stored (uncompressed) deflate
// blocks, made by hand: cheap enough for every fuzz input, where a
// gzip.Writer allocates some 700 KB.
func storedGzip(b []byte) []byte {
	out := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}
	sum, size := crc32.ChecksumIEEE(b), uint32(len(b))
	for {
		n := min(len(b), 0xffff)
		final := byte(0)
		if n == len(b) {
			final = 1
		}
		out = append(out, final, byte(n), byte(n>>8), ^byte(n), ^byte(n>>8))
		out = append(out, b[:n]...)
		if b = b[n:]; final == 1 {
			break
		}
	}
	return binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(out, sum), size)
}

// bundleOf is a bundle (a gzip'd tar) of entries.
func bundleOf(t testing.TB, entries ...entry) []byte { return gzipOf(t, tarOf(t, entries...)) }

// metadataOf is a metadata.json of a database built at updated.
func metadataOf(version int, updated string) string {
	s := `{"Version":` + strconv.Itoa(version) + `,"NextUpdate":"2026-12-02T00:00:00Z"`
	if updated != "" {
		s += `,"UpdatedAt":"` + updated + `"`
	}
	return s + `,"DownloadedAt":"0001-01-01T00:00:00Z"}`
}

var (
	testMetadata = metadataOf(2, "2026-12-01T00:00:00Z")
	testUpdated  = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	// A few bytes of what a bbolt file starts with; readBundle does not
	// look inside.
	testDB = "\x00\x00\x00\x00\x00\x00\x00\x00\x04\x00\xed\x0c\xda\x0b" + strings.Repeat("trivy-db page ", 500)
)

// validBundle is a bundle of a database built at updated.
func validBundle(t testing.TB, db, updated string) []byte {
	return bundleOf(t, entry{name: "trivy.db", body: db}, entry{name: "metadata.json", body: metadataOf(2, updated)})
}

// readAll reads bundle b, returning what it handed out by name. A file
// that could not be read whole is handed out as "<name>: <error>": the
// error is readBundle's to report, at the next entry.
func readAll(b []byte) (*metadata, map[string]string, error) {
	got := map[string]string{}
	meta, err := readBundle(bytes.NewReader(b), func(name string, r io.Reader) error {
		if _, ok := got[name]; ok {
			return errors.New("handed " + name + " twice")
		}
		data, err := io.ReadAll(r)
		got[name] = string(data)
		if err != nil {
			got[name] = name + ": " + err.Error()
		}
		return nil
	})
	return meta, got, err
}

func TestReadBundle(t *testing.T) {
	tests := []struct {
		name    string
		entries []entry
	}{
		{"the files at the root", []entry{{name: "trivy.db", body: testDB}, {name: "metadata.json", body: testMetadata}}},
		{"metadata first", []entry{{name: "metadata.json", body: testMetadata}, {name: "trivy.db", body: testDB}}},
		{"./ prefix", []entry{{name: "./", typ: tar.TypeDir}, {name: "./trivy.db", body: testDB}, {name: "./metadata.json", body: testMetadata}}},
		{"in db/", []entry{{name: "db/", typ: tar.TypeDir}, {name: "db/trivy.db", body: testDB}, {name: "db/metadata.json", body: testMetadata}}},
		{"in ./db/", []entry{{name: "./", typ: tar.TypeDir}, {name: "./db/", typ: tar.TypeDir}, {name: "./db/metadata.json", body: testMetadata}, {name: "./db/trivy.db", body: testDB}}},
		{"an empty database", []entry{{name: "trivy.db"}, {name: "metadata.json", body: testMetadata}}},
		{"metadata of exactly the bound", []entry{{name: "trivy.db", body: testDB},
			{name: "metadata.json", body: testMetadata + strings.Repeat(" ", maxMetadata-len(testMetadata))}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			meta, got, err := readAll(bundleOf(t, tc.entries...))
			if err != nil {
				t.Fatal(err)
			}
			if meta.Version != 2 || !meta.UpdatedAt.Equal(testUpdated) ||
				!meta.NextUpdate.Equal(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("metadata %+v", meta)
			}
			want := map[string]string{}
			for _, e := range tc.entries {
				if e.typ == 0 {
					want[filepath.Base(e.name)] = e.body
				}
			}
			if !maps.Equal(got, want) {
				t.Errorf("handed %v, want %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
			}
		})
	}
}

// GNU tar pads the archive to a 10 KiB record; any gzip level will do.
func TestReadBundleAsToolsWriteIt(t *testing.T) {
	raw := tarOf(t, entry{name: "trivy.db", body: testDB}, entry{name: "metadata.json", body: testMetadata})
	padded := append(slices.Clone(raw), make([]byte, 10240-len(raw)%10240)...)
	for name, b := range map[string][]byte{
		"padded to a record": gzipOf(t, padded),
		"not compressed":     gzipLevel(t, raw, gzip.NoCompression),
		"stored blocks":      storedGzip(padded),
		"no end of archive":  storedGzip(raw[:len(raw)-1024]),
		"best compression":   gzipLevel(t, padded, gzip.BestCompression),
		// gzip reads a concatenation of members as one stream.
		"two gzip members": append(gzipOf(t, raw[:700]), gzipOf(t, raw[700:])...),
	} {
		if _, got, err := readAll(b); err != nil || got[dbFile] != testDB || got[metadataFile] != testMetadata {
			t.Errorf("%s: %v", name, err)
		}
	}
	// FuzzBundle's specs make bundles too.
	b, _ := specBundle(t, []byte("\x00trivy.db\x00trivy-db pages\x00\x00metadata.json\x00"+testMetadata+"\x00"))
	if _, got, err := readAll(b); err != nil || got[dbFile] != "trivy-db pages" || got[metadataFile] != testMetadata {
		t.Errorf("a spec: %v, %v", got, err)
	}
}

func TestReadBundleRefuses(t *testing.T) {
	db := entry{name: "trivy.db", body: testDB}
	md := entry{name: "metadata.json", body: testMetadata}
	good := bundleOf(t, db, md)
	badCRC := slices.Clone(good)
	badCRC[len(badCRC)-8] ^= 0xff // the gzip trailer's CRC-32 of the tar
	// Stored (uncompressed) deflate blocks: a flipped byte of trivy.db
	// still inflates, and only gzip's checksum tells.
	stored := gzipLevel(t, tarOf(t, db, md), gzip.NoCompression)
	i := bytes.Index(stored, []byte("trivy-db page trivy-db page"))
	if i < 0 {
		t.Fatal("trivy.db's bytes are not in the stored bundle")
	}
	flipped := slices.Clone(stored)
	flipped[i] ^= 0x20
	if _, _, err := readAll(stored); err != nil {
		t.Fatalf("the stored bundle: %v", err)
	}
	tests := []struct {
		name   string
		bundle []byte
	}{
		{"nothing", nil},
		{"not gzip", tarOf(t, db, md)},
		{"gzip of no tar", gzipOf(t, []byte("trivy.db metadata.json"))},
		{"truncated", good[:len(good)/2]},
		{"a bad gzip checksum", badCRC},
		{"a flipped byte of trivy.db", flipped},
		{"garbage after the gzip stream", append(slices.Clone(good), "garbage"...)},
		{"more than padding after the tar", gzipOf(t, append(tarOf(t, db, md), make([]byte, maxTrailer+1)...))},
		{"an extra file", bundleOf(t, db, md, entry{name: "README", body: "hi"})},
		{"an extra file in db/", bundleOf(t, entry{name: "db/trivy.db", body: testDB}, entry{name: "db/metadata.json", body: testMetadata}, entry{name: "db/trivy.db.lock"})},
		{"another directory", bundleOf(t, entry{name: "cache/", typ: tar.TypeDir}, db, md)},
		{"a file in another directory", bundleOf(t, entry{name: "java-db/trivy.db", body: testDB}, md)},
		{"a directory named trivy.db", bundleOf(t, entry{name: "trivy.db/", typ: tar.TypeDir}, db, md)},
		{"a symlink", bundleOf(t, db, md, entry{name: "latest", typ: tar.TypeSymlink, link: "trivy.db"})},
		{"trivy.db a symlink", bundleOf(t, entry{name: "trivy.db", typ: tar.TypeSymlink, link: "/etc/passwd"}, md)},
		{"metadata.json a hard link", bundleOf(t, db, entry{name: "metadata.json", typ: tar.TypeLink, link: "trivy.db"})},
		{"trivy.db a device", bundleOf(t, entry{name: "trivy.db", typ: tar.TypeChar}, md)},
		{"trivy.db a fifo", bundleOf(t, entry{name: "trivy.db", typ: tar.TypeFifo}, md)},
		{"outside the bundle", bundleOf(t, entry{name: "../trivy.db", body: testDB}, md)},
		{"an absolute path", bundleOf(t, entry{name: "/db/trivy.db", body: testDB}, md)},
		{"no trivy.db", bundleOf(t, md)},
		{"no metadata.json", bundleOf(t, db)},
		{"empty", bundleOf(t)},
		{"metadata version 1", bundleOf(t, db, entry{name: "metadata.json", body: metadataOf(1, "2026-12-01T00:00:00Z")})},
		{"metadata version 3", bundleOf(t, db, entry{name: "metadata.json", body: metadataOf(3, "2026-12-01T00:00:00Z")})},
		{"metadata without UpdatedAt", bundleOf(t, db, entry{name: "metadata.json", body: metadataOf(2, "")})},
		{"metadata with a zero UpdatedAt", bundleOf(t, db, entry{name: "metadata.json", body: metadataOf(2, "0001-01-01T00:00:00Z")})},
		{"metadata not JSON", bundleOf(t, db, entry{name: "metadata.json", body: "Version: 2"})},
		{"metadata empty", bundleOf(t, db, entry{name: "metadata.json"})},
		{"metadata null", bundleOf(t, db, entry{name: "metadata.json", body: "null"})},
		{"two trivy.db", bundleOf(t, db, md, db)},
		{"two trivy.db, one in db/", bundleOf(t, db, md, entry{name: "db/trivy.db", body: testDB})},
		{"two metadata.json", bundleOf(t, db, md, md)},
		{"oversized metadata", bundleOf(t, db, entry{name: "metadata.json", body: testMetadata + strings.Repeat(" ", maxMetadata+1-len(testMetadata))})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			meta, _, err := readAll(tc.bundle)
			if err == nil {
				t.Fatalf("accepted, metadata %+v", meta)
			}
			if !errors.Is(err, ErrBundle) {
				t.Errorf("error %q does not wrap ErrBundle", err)
			}
			if meta != nil {
				t.Errorf("refused, yet metadata %+v", meta)
			}
		})
	}
}

// What the file callback answers comes back as it is.
func TestReadBundleCallbackError(t *testing.T) {
	boom := errors.New("disk full")
	_, err := readBundle(bytes.NewReader(validBundle(t, testDB, "2026-12-01T00:00:00Z")), func(string, io.Reader) error { return boom })
	if !errors.Is(err, boom) || errors.Is(err, ErrBundle) {
		t.Errorf("error %v, want %v alone", err, boom)
	}
}

// specBundle makes a bundle from spec, so that a few bytes of fuzz input
// make a well-formed tar of entries for readBundle to judge: each entry
// is a type byte, a name, a NUL, a body (a link's target) and a NUL.
func specBundle(t testing.TB, spec []byte) ([]byte, []entry) {
	t.Helper()
	types := []byte{tar.TypeReg, tar.TypeReg, tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeLink, tar.TypeFifo}
	var es []entry
	for len(spec) > 0 {
		e := entry{typ: types[int(spec[0])%len(types)]}
		var name, body []byte
		name, spec, _ = bytes.Cut(spec[1:], []byte{0})
		body, spec, _ = bytes.Cut(spec, []byte{0})
		e.name = string(name)
		switch e.typ {
		case tar.TypeReg:
			e.typ, e.body = 0, string(body)
		case tar.TypeSymlink, tar.TypeLink:
			e.link = string(body)
		}
		es = append(es, e)
	}
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range es {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: 0o644}
		if e.typ == 0 {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.body))
		}
		if tw.WriteHeader(h) != nil {
			return nil, nil // a name tar cannot write
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return storedGzip(b.Bytes()), es
}

// FuzzBundle: no input makes readBundle panic, what it refuses wraps
// ErrBundle, and what it accepts handed out both files once and has
// usable metadata. Each input is read as a bundle, and as the spec of
// one (specBundle): tar headers are 512 bytes, and minimizing inputs
// that hold them whole takes the fuzzer longer than it runs.
func FuzzBundle(f *testing.F) {
	md := `{"Version":2,"UpdatedAt":"2026-12-01T00:00:00Z"}`
	f.Add([]byte("\x00trivy.db\x00db\x00\x00metadata.json\x00" + md + "\x00"))
	f.Add([]byte("\x03./db/\x00\x00\x00./db/trivy.db\x00db\x00\x00db/metadata.json\x00" + md + "\x00"))
	f.Add([]byte("\x04trivy.db\x00/etc/passwd\x00\x00metadata.json\x00" + md + "\x00"))
	f.Add([]byte("\x00metadata.json\x00{\"Version\":1}\x00\x00trivy.db\x00\x00\x00trivy.db\x00\x00"))
	f.Add(validBundle(f, "db", "2026-12-01T00:00:00Z"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		spec, es := specBundle(t, b)
		for i, in := range [][]byte{b, spec} {
			if i == 1 && spec == nil {
				continue
			}
			got := map[string]string{}
			meta, err := readBundle(bytes.NewReader(in), func(name string, r io.Reader) error {
				data, _ := io.ReadAll(io.LimitReader(r, 1<<20)) // a read error shows in the next header
				if _, ok := got[name]; ok {
					t.Fatalf("%s handed out twice", name)
				}
				got[name] = string(data)
				return nil
			})
			if err != nil {
				if !errors.Is(err, ErrBundle) {
					t.Fatalf("error %q does not wrap ErrBundle", err)
				}
				continue
			}
			if _, ok := got[dbFile]; !ok || len(got) != 2 {
				t.Fatalf("accepted, having handed out %v", slices.Sorted(maps.Keys(got)))
			}
			if meta == nil || meta.Version != schemaVersion || meta.UpdatedAt.IsZero() {
				t.Fatalf("accepted metadata %+v", meta)
			}
			if i == 1 {
				// What was handed out is what the tar held under that name.
				for _, e := range es {
					if e.typ == 0 && path.Base(e.name) == dbFile && e.body != got[dbFile] ||
						e.typ == 0 && path.Base(e.name) == metadataFile && e.body != got[metadataFile] {
						t.Fatalf("handed out %q as %s, not the entry %q", got[path.Base(e.name)], path.Base(e.name), e.body)
					}
				}
			}
		}
	})
}

// fixture is a scan service over a migrated database and a filesystem
// store, each in a temporary directory.
type fixture struct {
	svc      *Service
	db       *models.DB
	store    *filesystem.Driver
	storeDir string
	dataDir  string
	woken    int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{storeDir: t.TempDir(), dataDir: t.TempDir()}
	f.db = testutil.OpenDB(t, t.TempDir())
	var err error
	if f.store, err = filesystem.New(f.storeDir); err != nil {
		t.Fatal(err)
	}
	f.svc = New(Config{DB: f.db, Store: f.store, Log: slog.New(slog.DiscardHandler), DataDir: f.dataDir,
		Wake: func() { f.woken++ }})
	return f
}

func (f *fixture) databaseDir(t *testing.T, d *models.ScannerDatabase) (string, error) {
	t.Helper()
	f.svc.mu.Lock()
	defer f.svc.mu.Unlock()
	return f.svc.databaseDir(t.Context(), d)
}

func (f *fixture) blobPath(d string) string {
	hex := digest.Digest(d).Encoded()
	return filepath.Join(f.storeDir, "blobs", "sha256", hex[:2], hex)
}

// noUploads fails t if the store holds upload data.
func (f *fixture) noUploads(t *testing.T) {
	t.Helper()
	ups, err := f.store.ListUploads(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 0 {
		t.Errorf("upload data left in the store: %+v", ups)
	}
}

// blobs lists the digests the store holds.
func (f *fixture) blobs(t *testing.T) []string {
	t.Helper()
	var out []string
	if err := f.store.WalkBlobs(t.Context(), func(d digest.Digest, _ int64, _ time.Time) error {
		out = append(out, d.String())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// entries lists dir's names.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// checkUnpacked fails t unless dir/db holds just bundle's two files.
func checkUnpacked(t *testing.T, dir, db, metadata string) {
	t.Helper()
	if got := entries(t, filepath.Join(dir, "db")); !slices.Equal(got, []string{metadataFile, dbFile}) {
		t.Fatalf("%s/db holds %v", dir, got)
	}
	for name, want := range map[string]string{dbFile: db, metadataFile: metadata} {
		b, err := os.ReadFile(filepath.Join(dir, "db", name))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want {
			t.Errorf("%s: %d bytes, not the bundle's %d", name, len(b), len(want))
		}
	}
}

func TestImportDatabase(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	b1 := validBundle(t, testDB, "2026-12-01T00:00:00Z")
	d1, err := f.svc.ImportDatabase(ctx, bytes.NewReader(b1), "admin")
	if err != nil {
		t.Fatal(err)
	}
	if want := digest.FromBytes(b1).String(); d1.Digest != want || d1.Size != int64(len(b1)) || d1.Version != 2 ||
		!d1.UpdatedAt.Equal(testUpdated) || d1.NextUpdate == nil || !d1.NextUpdate.Equal(testUpdated.Add(24*time.Hour)) ||
		d1.ImportedBy != "admin" {
		t.Errorf("imported %+v, want digest %s and size %d", d1, want, len(b1))
	}
	if f.woken != 1 {
		t.Errorf("an import woke the worker %d times", f.woken)
	}

	// The row, as scans find it.
	cur, err := f.svc.Database(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cur.ID != d1.ID || cur.Digest != d1.Digest || cur.Size != d1.Size || !cur.UpdatedAt.Equal(testUpdated) || cur.ImportedBy != "admin" {
		t.Errorf("current database %+v, want %+v", cur, d1)
	}
	// The blob, and nothing else, in the store; no lease left.
	if got := f.blobs(t); !slices.Equal(got, []string{d1.Digest}) {
		t.Errorf("store holds %v", got)
	}
	if got, err := os.ReadFile(f.blobPath(d1.Digest)); err != nil || !bytes.Equal(got, b1) {
		t.Errorf("the stored blob is not the bundle: %d bytes, %v", len(got), err)
	}
	f.noUploads(t)
	var leases int64
	if err := f.db.Writer().Raw("SELECT COUNT(*) FROM blob_leases").Scan(&leases).Error; err != nil || leases != 0 {
		t.Errorf("%d blob leases left (%v)", leases, err)
	}

	// Unpacked on first use, reused after.
	dir1, err := f.databaseDir(t, cur)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(dir1, filepath.Join(f.dataDir, "scanner")+string(filepath.Separator)) {
		t.Errorf("unpacked in %s, outside the data dir", dir1)
	}
	checkUnpacked(t, dir1, testDB, testMetadata)
	if got := entries(t, filepath.Join(f.dataDir, "scanner")); !slices.Equal(got, []string{filepath.Base(dir1)}) {
		t.Errorf("scanner dir holds %v", got)
	}
	// The second use reads nothing from the store: with the blob gone it
	// still answers the same directory.
	if err := os.Rename(f.blobPath(d1.Digest), f.blobPath(d1.Digest)+".away"); err != nil {
		t.Fatal(err)
	}
	if again, err := f.databaseDir(t, cur); err != nil || again != dir1 {
		t.Errorf("second use: %q, %v; want %q", again, err, dir1)
	}
	if err := os.Rename(f.blobPath(d1.Digest)+".away", f.blobPath(d1.Digest)); err != nil {
		t.Fatal(err)
	}

	// A newer database becomes the current one; unpacking it removes the
	// older one's directory.
	db2 := testDB + "and a newer page"
	b2 := bundleOf(t, entry{name: "db/", typ: tar.TypeDir}, entry{name: "db/metadata.json", body: metadataOf(2, "2026-12-02T06:00:00Z")},
		entry{name: "db/trivy.db", body: db2})
	d2, err := f.svc.ImportDatabase(ctx, bytes.NewReader(b2), "root")
	if err != nil {
		t.Fatal(err)
	}
	if d2.Digest != digest.FromBytes(b2).String() || d2.Digest == d1.Digest {
		t.Fatalf("second import: %+v", d2)
	}
	cur, err = f.svc.Database(ctx)
	if err != nil || cur.Digest != d2.Digest || !cur.UpdatedAt.Equal(time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)) {
		t.Fatalf("current after the second import: %+v, %v", cur, err)
	}
	dir2, err := f.databaseDir(t, cur)
	if err != nil {
		t.Fatal(err)
	}
	if dir2 == dir1 {
		t.Fatal("both databases unpacked in one directory")
	}
	checkUnpacked(t, dir2, db2, metadataOf(2, "2026-12-02T06:00:00Z"))
	if _, err := os.Stat(dir1); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the older database's directory is still there: %v", err)
	}
	if got := entries(t, filepath.Join(f.dataDir, "scanner")); !slices.Equal(got, []string{filepath.Base(dir2)}) {
		t.Errorf("scanner dir holds %v", got)
	}
	if got := f.blobs(t); len(got) != 2 {
		t.Errorf("store holds %v, want both bundles", got)
	}
	f.noUploads(t)
}

// A bundle that is not one leaves nothing behind: no row, no blob, no
// upload data, no wake-up.
func TestImportDatabaseRefusesBadBundles(t *testing.T) {
	db := entry{name: "trivy.db", body: testDB}
	tests := []struct {
		name   string
		bundle []byte
	}{
		{"not gzip", []byte("this is not a bundle")},
		{"empty", nil},
		{"an extra file", bundleOf(t, db, entry{name: "metadata.json", body: testMetadata}, entry{name: "evil.sh", body: "#!/bin/sh"})},
		{"metadata version 1", bundleOf(t, db, entry{name: "metadata.json", body: metadataOf(1, "2026-12-01T00:00:00Z")})},
		{"no metadata", bundleOf(t, db)},
		{"a bad gzip checksum", func() []byte {
			b := validBundle(t, testDB, "2026-12-01T00:00:00Z")
			b[len(b)-6] ^= 1
			return b
		}()},
		{"garbage after the gzip stream", append(validBundle(t, testDB, "2026-12-01T00:00:00Z"), "<html>"...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := t.Context()
			d, err := f.svc.ImportDatabase(ctx, bytes.NewReader(tc.bundle), "admin")
			if !errors.Is(err, ErrBundle) {
				t.Fatalf("imported %+v, %v; want ErrBundle", d, err)
			}
			if cur, err := f.svc.Database(ctx); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("a database was recorded: %+v, %v", cur, err)
			}
			if got := f.blobs(t); len(got) != 0 {
				t.Errorf("store holds %v", got)
			}
			known, err := f.db.GC.KnownBlobs(ctx, []string{digest.FromBytes(tc.bundle).String()})
			if err != nil || len(known) != 0 {
				t.Errorf("blob row recorded: %v, %v", known, err)
			}
			f.noUploads(t)
			if f.woken != 0 {
				t.Errorf("a refused import woke the worker")
			}
		})
	}
}

// A failed import after a good one keeps the good one current.
func TestImportDatabaseBadAfterGood(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	good, err := f.svc.ImportDatabase(ctx, bytes.NewReader(validBundle(t, testDB, "2026-12-01T00:00:00Z")), "admin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ImportDatabase(ctx, bytes.NewReader(bundleOf(t, entry{name: "trivy.db", body: testDB})), "admin"); !errors.Is(err, ErrBundle) {
		t.Fatalf("bad bundle: %v", err)
	}
	if cur, err := f.svc.Database(ctx); err != nil || cur.ID != good.ID {
		t.Errorf("current after a refused import: %+v, %v; want %+v", cur, err, good)
	}
	if got := f.blobs(t); !slices.Equal(got, []string{good.Digest}) {
		t.Errorf("store holds %v", got)
	}
	f.noUploads(t)
}

// A blob whose bytes are not the recorded digest's is not unpacked, and
// leaves no directory, half-made or whole; once the bytes are right
// again it unpacks.
func TestDatabaseDirChecksTheDigest(t *testing.T) {
	good := validBundle(t, testDB, "2026-12-01T00:00:00Z")
	other := validBundle(t, testDB+"!", "2026-12-01T00:00:00Z")
	tests := []struct {
		name    string
		corrupt []byte
		// mismatch: the bundle still reads, and only the digest tells.
		mismatch bool
	}{
		{"another valid bundle", other, true},
		{"trailing bytes", append(slices.Clone(good), "tail"...), false},
		{"a flipped byte in the gzip trailer", func() []byte { b := slices.Clone(good); b[len(b)-5] ^= 1; return b }(), false},
		{"truncated", good[:len(good)-40], false},
		{"emptied", []byte{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			d, err := f.svc.ImportDatabase(t.Context(), bytes.NewReader(good), "admin")
			if err != nil {
				t.Fatal(err)
			}
			// Another database's directory, which the attempt clears.
			stale := filepath.Join(f.dataDir, "scanner", "trivy-000000000000000000000000")
			if err := os.MkdirAll(filepath.Join(stale, "db"), 0o750); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(f.blobPath(d.Digest), tc.corrupt, 0o640); err != nil {
				t.Fatal(err)
			}
			dir, err := f.databaseDir(t, d)
			if err == nil {
				t.Fatalf("unpacked corrupted bytes into %s", dir)
			}
			if tc.mismatch && (!strings.Contains(err.Error(), d.Digest) || !strings.Contains(err.Error(), digest.FromBytes(tc.corrupt).String())) {
				t.Errorf("error %q names neither the recorded nor the stored digest", err)
			}
			if got := entries(t, filepath.Join(f.dataDir, "scanner")); len(got) != 0 {
				t.Errorf("left in the scanner dir: %v", got)
			}

			if err := os.WriteFile(f.blobPath(d.Digest), good, 0o640); err != nil {
				t.Fatal(err)
			}
			dir, err = f.databaseDir(t, d)
			if err != nil {
				t.Fatalf("with the bytes restored: %v", err)
			}
			checkUnpacked(t, dir, testDB, testMetadata)
		})
	}
}

// A database whose blob is gone fails to unpack, and says which.
func TestDatabaseDirMissingBlob(t *testing.T) {
	f := newFixture(t)
	d, err := f.svc.ImportDatabase(t.Context(), bytes.NewReader(validBundle(t, testDB, "2026-12-01T00:00:00Z")), "admin")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.Delete(t.Context(), digest.Digest(d.Digest)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.databaseDir(t, d); err == nil || !strings.Contains(err.Error(), d.Digest) {
		t.Errorf("error %v", err)
	}
	if got := entries(t, filepath.Join(f.dataDir, "scanner")); len(got) != 0 {
		t.Errorf("left in the scanner dir: %v", got)
	}
}

// Importing the same bundle twice records it once, current again.
func TestImportDatabaseTwice(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	b := validBundle(t, testDB, "2026-12-01T00:00:00Z")
	first, err := f.svc.ImportDatabase(ctx, bytes.NewReader(b), "admin")
	if err != nil {
		t.Fatal(err)
	}
	second, err := f.svc.ImportDatabase(ctx, bytes.NewReader(b), "root")
	if err != nil {
		t.Fatal(err)
	}
	if second.Digest != first.Digest {
		t.Fatalf("digests %s, %s", first.Digest, second.Digest)
	}
	var n int64
	if err := f.db.Writer().Model(&models.ScannerDatabase{}).Count(&n).Error; err != nil || n != 1 {
		t.Errorf("%d rows (%v), want 1", n, err)
	}
	if cur, err := f.svc.Database(ctx); err != nil || cur.ImportedBy != "root" {
		t.Errorf("current: %+v, %v", cur, err)
	}
	if got := f.blobs(t); !slices.Equal(got, []string{first.Digest}) {
		t.Errorf("store holds %v", got)
	}
	f.noUploads(t)
}
