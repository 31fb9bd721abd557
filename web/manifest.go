package web

import (
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/artifact"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/hub"
)

// manifestPages are the pages of one tag or digest: what is inside an
// image, an index or an artifact, and what is attached to it.
type manifestPages struct {
	*renderer
	repos   *hub.Repos
	inspect *hub.Inspect
	scans   *hub.Scans
}

type manifestData struct {
	Repo *hub.Repository
	M    *hub.Manifest
	// Commands fetch it by tag (when opened by one) and by digest.
	ByTag, ByDigest string
	// Env, Labels and Annotations, in order, for the tables.
	Env         []string
	Labels      []keyValue
	Annotations []keyValue
	Ports       []string
	Volumes     []string
	CanWrite    bool
	CanManage   bool // may delete its tags
	// ArtifactType is the type an artifact declares ("" for an image).
	ArtifactType string
	// Scan is an image's last vulnerability scan, its findings in Sort's
	// order; Scanning says whether this server scans.
	Scan     *hub.ScanReport
	Sort     string
	Scanning bool
}

type keyValue struct {
	Key, Value string
	// URL is Value as a link, for an org.opencontainers.image.* key
	// whose value is an http(s) URL.
	URL string
}

// show renders the page of ref ("tags", tag) or ("digests", digest).
func (w *manifestPages) show(c *gin.Context, name, by, ref string) {
	var r hub.ManifestRef
	if by == "tags" {
		r.Tag = ref
	} else {
		r.Digest = ref
	}
	ctx := c.Request.Context()
	id := pc(c).User
	repo, err := w.repos.Get(ctx, id, name)
	if err != nil {
		w.fail(c, err)
		return
	}
	m, err := w.inspect.Describe(ctx, id, name, r)
	if err != nil {
		w.fail(c, err)
		return
	}
	d := manifestData{Repo: repo, M: m, CanWrite: repo.Level >= auth.LevelWrite, CanManage: repo.Level >= auth.LevelAdmin}
	tag := m.Tag
	if tag == "" && m.Kind == artifact.Helm && len(m.Tags) > 0 {
		tag = m.Tags[0] // helm pulls a chart by its version
	}
	host := w.cfg.RegistryHost
	if m.Tag != "" {
		d.ByTag = m.Kind.Command(artifact.Ref{Host: host, Name: name, Tag: m.Tag, Subject: m.Subject})
	}
	d.ByDigest = m.Kind.Command(artifact.Ref{Host: host, Name: name, Tag: tag, Digest: m.Digest, Subject: m.Subject})
	if d.ByDigest == d.ByTag {
		d.ByDigest = ""
	}
	if img := m.Image; img != nil {
		d.Env = img.Config.Env
		d.Labels = keyValues(img.Config.Labels)
		for p := range img.Config.ExposedPorts {
			d.Ports = append(d.Ports, p)
		}
		for v := range img.Config.Volumes {
			d.Volumes = append(d.Volumes, v)
		}
		sort.Strings(d.Ports)
		sort.Strings(d.Volumes)
	}
	if m.Kind == artifact.Image {
		d.Sort = c.Query("sort")
		if _, ok := models.FindingOrders[d.Sort]; !ok {
			d.Sort = "severity"
		}
		if d.Scan, err = w.scans.Report(ctx, id, name, hub.ManifestRef{Digest: m.Digest}, d.Sort); err != nil {
			w.fail(c, err)
			return
		}
		d.Scanning = w.scans.Enabled()
	}
	d.Annotations = keyValues(m.Annotations)
	if !m.Kind.IsImage() && !artifact.IsImageConfig(m.ArtifactType) {
		d.ArtifactType = m.ArtifactType
	}
	title := name + ":" + m.Tag
	if m.Tag == "" {
		title = name + "@" + shortDigest(m.Digest)
	}
	w.render(c, http.StatusOK, "manifest.html", title, d)
}

// keyValues sorts a map into rows, linking OCI annotation URLs.
func keyValues(m map[string]string) []keyValue {
	out := make([]keyValue, 0, len(m))
	for k, v := range m {
		kv := keyValue{Key: k, Value: v}
		if strings.HasPrefix(k, "org.opencontainers.image.") {
			if u, err := url.Parse(v); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
				kv.URL = u.String()
			}
		}
		out = append(out, kv)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// tagURL and digestURL are the pages of a tag and of a digest.
func tagURL(name, tag string) string       { return repoURL(name, "tags", tag) }
func digestURL(name, digest string) string { return repoURL(name, "digests", digest) }

// sortColumn is a column of the findings table that sorts it.
type sortColumn struct{ Key, Label string }

// sortColumns are the findings table's sortable columns, in order.
func sortColumns() []sortColumn {
	return []sortColumn{{"severity", "Severity"}, {"id", "Vulnerability"}, {"package", "Package"},
		{"installed", "Installed"}, {"fixed", "Fixed in"}}
}
