package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/hub"
	"github.com/wharfhub/wharf/server/retention"
)

// retentionPages are a repository's (/r/NAME/retention) and a
// namespace's (/u/NAME/retention) retention policy, for their admins and
// owners: the policy's form, a preview of what a run would remove, a run
// now, and the runs' reports. POSTs to .../retention (save),
// .../retention/delete, .../retention/preview and .../retention/run.
type retentionPages struct {
	*renderer
	retention *hub.Retention
}

// ruleRow is one rule's row of the form.
type ruleRow struct {
	Keep, N, Pattern string
	Not              bool
}

type retentionView struct {
	Heading, Base, Back, BackText string
	// Policy is the policy that holds (nil: none); Own whether it is
	// the target's own (not its namespace's).
	Policy *hub.RetentionView
	Own    bool
	// Rows are the form's rules: the policy's, or what was sent, and
	// blank rows to add more; Untagged its untagged days.
	Rows     []ruleRow
	Untagged string
	Error    string
	// Preview is what a run would remove, Ran what a run removed.
	Preview, Ran []*retention.Outcome
	Runs         []models.RetentionRun
	CSRF         string
}

// repositoryPolicy serves /r/NAME/retention[/...].
func (w *retentionPages) repositoryPolicy(c *gin.Context, name string, rest []string) {
	w.route(c, hub.Target{Repository: name}, retentionView{Heading: "Retention of " + name, Base: repoURL(name, "retention"),
		Back: repoURL(name, "settings"), BackText: name}, rest)
}

// namespacePolicy serves /u/NAME/retention[/...].
func (w *retentionPages) namespacePolicy(c *gin.Context) {
	ns := c.Param("name")
	rest := strings.Split(strings.Trim(strings.TrimPrefix(c.Request.URL.Path, "/u/"+ns+"/retention"), "/"), "/")
	if len(rest) == 1 && rest[0] == "" {
		rest = nil
	}
	base := "/u/" + url.PathEscape(ns)
	w.route(c, hub.Target{Namespace: ns}, retentionView{Heading: "Retention in " + ns, Base: base + "/retention",
		Back: base, BackText: ns}, rest)
}

func (w *retentionPages) route(c *gin.Context, t hub.Target, v retentionView, rest []string) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	ctx := c.Request.Context()
	get := c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead
	post := c.Request.Method == http.MethodPost
	switch {
	case get && len(rest) == 0:
		w.show(c, t, v, http.StatusOK)
	case post && len(rest) == 0:
		p, err := policyFromForm(c)
		if err == nil {
			_, err = w.retention.SetPolicy(ctx, id, t, p)
		}
		w.done(c, t, v, err, "Policy saved: it runs on the server's schedule; preview it, or run it now.")
	case post && len(rest) == 1 && rest[0] == "delete":
		w.done(c, t, v, w.retention.DeletePolicy(ctx, id, t), "Policy removed: nothing is pruned here any more.")
	case post && len(rest) == 1 && rest[0] == "preview":
		os, err := w.retention.Preview(ctx, id, t)
		if err != nil {
			w.done(c, t, v, err, "")
			return
		}
		v.Preview = os
		w.show(c, t, v, http.StatusOK)
	case post && len(rest) == 1 && rest[0] == "run":
		os, err := w.retention.Run(ctx, id, t)
		if err != nil {
			w.done(c, t, v, err, "")
			return
		}
		tags, manifests, bytes := 0, 0, int64(0)
		for _, o := range os {
			tags, manifests, bytes = tags+len(o.Removed.Tags), manifests+len(o.Removed.Manifests), bytes+o.Removed.Bytes
		}
		w.addFlash(c, "ok", fmt.Sprintf("Run done: removed %s and %s; garbage collection reclaims %s.",
			plural(tags, "tag"), plural(manifests, "manifest"), humanBytes(bytes)))
		redirectTo(c, v.Base+"#runs")
	default:
		w.renderError(c, http.StatusNotFound, "There is nothing here, or it is private.")
	}
}

// done answers a form: its refusal next to it, or the page again.
func (w *retentionPages) done(c *gin.Context, t hub.Target, v retentionView, err error, ok string) {
	var inv *hub.Invalid
	switch {
	case err == nil:
		w.addFlash(c, "ok", ok)
		redirectTo(c, v.Base)
	case asInvalid(err, &inv):
		v.Error = inv.Msg
		w.show(c, t, v, http.StatusBadRequest)
	case errors.Is(err, hub.ErrNotFound) && v.Back != "" && w.manages(c, t):
		v.Error = "There is no policy here to preview or run: save one first."
		w.show(c, t, v, http.StatusBadRequest)
	default:
		w.fail(c, err)
	}
}

// manages reports whether the caller manages t (so that a target with
// no policy is told so, rather than not found).
func (w *retentionPages) manages(c *gin.Context, t hub.Target) bool {
	_, err := w.retention.Runs(c.Request.Context(), pc(c).User, t, 0, 1)
	return err == nil
}

// show renders the page: the policy that holds, its form (with what was
// sent, after a refusal), a preview if asked, and the runs.
func (w *retentionPages) show(c *gin.Context, t hub.Target, v retentionView, status int) {
	ctx := c.Request.Context()
	id := pc(c).User
	p, err := w.retention.Policy(ctx, id, t)
	if err != nil && !errors.Is(err, hub.ErrNotFound) {
		w.fail(c, err)
		return
	}
	runs, err := w.retention.Runs(ctx, id, t, 0, 20)
	if err != nil {
		w.fail(c, err)
		return
	}
	v.Policy, v.Runs, v.CSRF = p, runs, pc(c).CSRF
	v.Own = p != nil && !p.Inherited
	if c.Request.Method == http.MethodPost && v.Error != "" && v.Preview == nil {
		v.Rows, v.Untagged = rowsFromForm(c), c.PostForm("untagged_days")
	} else if p != nil && v.Own {
		for _, r := range p.Rules {
			n := ""
			switch r.Keep {
			case retention.KeepNewest:
				n = strconv.Itoa(r.Count)
			case retention.KeepPushedWithin, retention.KeepPulledWithin:
				n = strconv.Itoa(r.Days)
			}
			v.Rows = append(v.Rows, ruleRow{Keep: r.Keep, N: n, Pattern: r.Pattern, Not: r.Not})
		}
		v.Untagged = strconv.Itoa(p.UntaggedDays)
	}
	for len(v.Rows) < 3 || (len(v.Rows) < retention.MaxRules && v.Rows[len(v.Rows)-1].Keep != "") {
		v.Rows = append(v.Rows, ruleRow{})
	}
	w.render(c, status, "retention.html", v.Heading, v)
}

// maxFormRules is how many rows of rules the form reads.
const maxFormRules = retention.MaxRules

// rowsFromForm reads the rows of rules as sent.
func rowsFromForm(c *gin.Context) []ruleRow {
	var out []ruleRow
	for i := range maxFormRules {
		k := strconv.Itoa(i)
		r := ruleRow{Keep: c.PostForm("keep_" + k), N: strings.TrimSpace(c.PostForm("n_" + k)),
			Pattern: strings.TrimSpace(c.PostForm("pattern_" + k)), Not: c.PostForm("not_"+k) == "on"}
		if r.Keep != "" || r.N != "" || r.Pattern != "" {
			out = append(out, r)
		}
	}
	return out
}

// policyFromForm reads the policy the form sent; a number that is no
// number is refused here, the rest by the service.
func policyFromForm(c *gin.Context) (retention.Policy, error) {
	var p retention.Policy
	for i, r := range rowsFromForm(c) {
		if r.Keep == "" {
			return p, &hub.Invalid{Msg: fmt.Sprintf("Rule %d: choose what it keeps.", i+1)}
		}
		rule := retention.Rule{Keep: r.Keep, Pattern: r.Pattern, Not: r.Not}
		if r.Keep != retention.KeepAlways {
			n, err := strconv.Atoi(r.N)
			if err != nil {
				return p, &hub.Invalid{Msg: fmt.Sprintf("Rule %d: the number of tags or days must be a whole number.", i+1)}
			}
			if r.Keep == retention.KeepNewest {
				rule.Count = n
			} else {
				rule.Days = n
			}
		}
		p.Rules = append(p.Rules, rule)
	}
	if s := strings.TrimSpace(c.PostForm("untagged_days")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return p, &hub.Invalid{Msg: "Untagged manifests go after a whole number of days (0 keeps them)."}
		}
		p.UntaggedDays = n
	}
	return p, nil
}
