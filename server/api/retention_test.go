package api_test

import (
	"strings"
	"testing"

	"github.com/wharfhub/wharf/server"
	"github.com/wharfhub/wharf/server/config"
)

type retentionPolicyJSON struct {
	Rules []struct {
		Keep, Pattern, Describe string
		Count, Days             int
		Not                     bool
	}
	UntaggedDays int    `json:"untagged_days"`
	Owner        string `json:"owner"`
	Inherited    bool   `json:"inherited"`
	UpdatedBy    string `json:"updated_by"`
}

// A policy that cannot hold is refused with a sentence that says which
// rule and why.
func TestRetentionPolicyRefusals(t *testing.T) {
	e := newEnv(t, "alice")
	e.pushAs("alice", "alice/app", "v1")
	p := "/api/v1/repositories/alice/app/retention"
	for _, tc := range []struct {
		body any
		say  string
	}{
		{map[string]any{"rules": []any{}}, "needs a rule"},
		{map[string]any{"rules": []any{map[string]any{"keep": "oldest"}}}, `Rule 1 keeps \"oldest\"`},
		{map[string]any{"rules": []any{map[string]any{"keep": "always"}, map[string]any{"keep": "newest", "count": 0}}}, "Rule 2: keeping the newest tags takes a count"},
		{map[string]any{"rules": []any{map[string]any{"keep": "pushed_within", "days": 99999}}}, "1 to 3650 days"},
		{map[string]any{"rules": []any{map[string]any{"keep": "always", "pattern": "v[1"}}}, "a tag pattern"},
		{map[string]any{"untagged_days": -3}, "Untagged manifests go after"},
		{map[string]any{"rules": "newest"}, ""},
	} {
		r := e.must("PUT", p, "alice", tc.body, 400)
		if !strings.Contains(string(r.body), tc.say) {
			t.Errorf("%v: %s, want it to say %q", tc.body, r.body, tc.say)
		}
	}
	e.must("GET", p, "alice", nil, 404) // nothing was saved
}

// A repository shows its namespace's policy until it has its own, which
// wins; removing its own brings the namespace's back. Only its admins
// and the namespace's owners see or change them.
func TestRetentionPolicyOwners(t *testing.T) {
	e := newEnv(t, "alice", "bob", "mallory")
	e.pushAs("alice", "alice/app", "v1")
	e.must("PUT", "/api/v1/repositories/alice/app/collaborators/bob", "alice", map[string]string{"permission": "write"}, 200)
	repo, ns := "/api/v1/repositories/alice/app/retention", "/api/v1/namespaces/alice/retention"

	e.must("PUT", ns, "alice", map[string]any{"rules": []any{map[string]any{"keep": "pushed_within", "days": 30}}}, 200)
	var got retentionPolicyJSON
	e.must("GET", repo, "alice", nil, 200).json(&got)
	if got.Owner != "namespace" || !got.Inherited || len(got.Rules) != 1 || got.Rules[0].Pattern != "*" ||
		got.Rules[0].Describe != "all tags pushed within 30 days" {
		t.Errorf("inherited = %+v", got)
	}
	e.must("PUT", repo, "alice", map[string]any{"rules": []any{map[string]any{"keep": "newest", "count": 3, "pattern": "v*", "not": true}},
		"untagged_days": 14}, 200)
	e.must("GET", repo, "alice", nil, 200).json(&got)
	if got.Owner != "repository" || got.Inherited || got.UntaggedDays != 14 || !got.Rules[0].Not || got.UpdatedBy != "alice" {
		t.Errorf("own = %+v", got)
	}
	var preview struct {
		DryRun       bool `json:"dry_run"`
		Repositories []struct {
			Repository, Policy string
			Tags               []struct {
				Name   string
				Keep   bool
				Reason string
			}
		}
	}
	e.must("POST", ns+"/preview", "alice", nil, 200).json(&preview)
	if !preview.DryRun || len(preview.Repositories) != 1 || preview.Repositories[0].Policy != "repository" ||
		len(preview.Repositories[0].Tags) != 1 || preview.Repositories[0].Tags[0].Keep {
		t.Errorf("namespace preview = %+v", preview)
	}
	e.must("DELETE", repo, "alice", nil, 204)
	e.must("GET", repo, "alice", nil, 200).json(&got)
	if !got.Inherited {
		t.Errorf("after removing its own: %+v", got)
	}
	e.must("DELETE", repo, "alice", nil, 404)

	// bob writes to alice/app, he does not administer it; mallory may
	// read the public alice/app, and administers neither.
	for _, c := range []struct {
		method, path, user string
		status             int
	}{
		{"GET", repo, "bob", 403}, {"PUT", repo, "bob", 403}, {"POST", repo + "/run", "bob", 403},
		{"GET", repo, "mallory", 403}, {"POST", repo + "/preview", "mallory", 403},
		{"GET", ns, "mallory", 403}, {"POST", ns + "/run", "mallory", 403}, {"GET", ns + "/runs", "bob", 403},
		{"GET", repo, "", 401}, {"PUT", ns, "", 401},
	} {
		if r := e.call(c.method, c.path, c.user, map[string]any{"rules": []any{map[string]any{"keep": "always"}}}); r.status != c.status {
			t.Errorf("%s %s as %q: %d %s, want %d", c.method, c.path, c.user, r.status, r.body, c.status)
		}
	}
}

// A run by hand says what went and is listed under runs, newest first,
// in pages.
func TestRetentionRunAndRuns(t *testing.T) {
	e := newEnv(t, "alice")
	e.pushAs("alice", "alice/app", "v1")
	repo := "/api/v1/repositories/alice/app/retention"
	e.must("POST", repo+"/run", "alice", nil, 404) // no policy yet
	e.must("PUT", repo, "alice", map[string]any{"rules": []any{map[string]any{"keep": "always", "pattern": "release-*"}}}, 200)
	var out struct {
		Repositories []struct {
			Removed struct{ Tags, Manifests []string }
			Run     *struct {
				ID       int64
				Cause    string
				Actor    string
				TagCount int `json:"tag_count"`
				Tags     []string
			}
		}
	}
	e.must("POST", repo+"/run", "alice", nil, 200).json(&out)
	if len(out.Repositories) != 1 || len(out.Repositories[0].Removed.Tags) != 1 || out.Repositories[0].Run == nil ||
		out.Repositories[0].Run.Cause != "manual" || out.Repositories[0].Run.Tags[0] != "v1" {
		t.Fatalf("run = %s", e.must("GET", repo+"/runs", "alice", nil, 200).body)
	}
	for range 2 {
		e.must("POST", repo+"/run", "alice", nil, 200) // nothing left to remove: recorded all the same
	}
	var runs struct {
		Runs []struct {
			ID       int64
			TagCount int `json:"tag_count"`
		}
		Next string
	}
	e.must("GET", repo+"/runs?limit=2", "alice", nil, 200).json(&runs)
	if len(runs.Runs) != 2 || runs.Next == "" || runs.Runs[0].ID < runs.Runs[1].ID {
		t.Fatalf("first page = %+v", runs)
	}
	next := runs.Next
	runs.Next = ""
	e.must("GET", repo+"/runs?limit=2&before="+next, "alice", nil, 200).json(&runs)
	if len(runs.Runs) != 1 || runs.Runs[0].TagCount != 1 || runs.Next != "" {
		t.Errorf("second page = %+v", runs)
	}
	e.must("GET", repo+"/runs?limit=0", "alice", nil, 400)
	e.must("GET", repo+"/runs?before=x", "alice", nil, 400)
}

// Mirrors keep what --mirror-retention says: no policy applies to one.
func TestRetentionRefusesMirrors(t *testing.T) {
	e := openEnvConfig(t, server.Options{}, func(c *config.Config) {
		c.Mirrors = []config.Mirror{{Name: "hub", URL: "https://registry-1.docker.io"}}
	}, "root")
	r := e.must("PUT", "/api/v1/namespaces/hub/retention", "root", map[string]any{"untagged_days": 3}, 400)
	if !strings.Contains(string(r.body), "--mirror-retention") {
		t.Errorf("refusal = %s", r.body)
	}
}

// A pull marks what it pulled: a rule that keeps what was pulled within
// some days keeps the tag pulled, and not the other.
func TestRetentionKeepsWhatIsPulled(t *testing.T) {
	e := newEnv(t, "alice")
	e.pushAs("alice", "alice/app", "v1")
	e.must("PUT", "/api/v1/repositories/alice/app/retention", "alice",
		map[string]any{"rules": []any{map[string]any{"keep": "pulled_within", "days": 1}}}, 200)
	pull := e.call("GET", "/v2/alice/app/manifests/v1", "alice", nil)
	if pull.status != 200 {
		t.Fatalf("pull: %d", pull.status)
	}
	if err := e.app.Content.Pulls.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	var preview struct {
		Repositories []struct {
			Tags []struct {
				Name     string
				Keep     bool
				Reason   string
				PulledAt *string `json:"pulled_at"`
			}
		}
	}
	e.must("POST", "/api/v1/repositories/alice/app/retention/preview", "alice", nil, 200).json(&preview)
	tags := preview.Repositories[0].Tags
	if len(tags) != 1 || !tags[0].Keep || tags[0].PulledAt == nil || tags[0].Reason != "rule 1: all tags pulled within a day" {
		t.Errorf("preview = %+v", tags)
	}
}
