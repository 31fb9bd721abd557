package web

import (
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/artifact"
	"github.com/wharfhub/wharf/server/hub"
)

func funcs(w *renderer) template.FuncMap {
	return template.FuncMap{
		// No "markdown": pages show the HTML stored when the text was
		// saved (hub.Service.ReadmeHTML, hub.Comment.BodyHTML).
		"repoURL": repoURL,
		"ago":     ago,
		"bytes":   humanBytes,
		"short":   shortDigest,
		"pull": func(repo, tag string) string {
			if tag == "" {
				return "docker pull " + w.cfg.RegistryHost + "/" + repo
			}
			return "docker pull " + w.cfg.RegistryHost + "/" + repo + ":" + tag
		},
		// fetch is the command that fetches (or verifies) what a tag
		// holds.
		"fetch": func(repo string, t hub.Tag) string {
			subject, _, _ := artifact.CosignSubject(t.Name)
			return t.Kind.Command(artifact.Ref{Host: w.cfg.RegistryHost, Name: repo, Tag: t.Name, Subject: subject})
		},
		// referrers is the argument of the "referrers" template.
		"referrers": func(repo string, items []hub.Referrer) referrersView {
			return referrersView{Repo: repo, Items: items}
		},
		// json shows a command's argv as a Dockerfile's exec form does.
		"json": func(v any) string {
			var b strings.Builder
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false) // the template escapes; \u0026 would show as is
			_ = enc.Encode(v)
			return strings.TrimSpace(b.String())
		},
		// kv is the argument of the "kv" template: a table of rows.
		"kv":          func(class string, rows []keyValue) kvView { return kvView{Class: class, Rows: rows} },
		"tagURL":      tagURL,
		"digestURL":   digestURL,
		"scanCounts":  scanCounts,
		"sortColumns": sortColumns,
		"list":        func(xs ...string) []string { return xs },
		// quotaForm writes a quota as the quota form takes it: an amount
		// of the largest unit it fills, to three decimals.
		"quotaForm": func(n int64) quotaField {
			unit, size := "MiB", float64(1<<20)
			for _, u := range []struct {
				name string
				size float64
			}{{"TiB", 1 << 40}, {"GiB", 1 << 30}} {
				if float64(n) >= u.size {
					unit, size = u.name, u.size
					break
				}
			}
			if n == 0 {
				unit, size = "GiB", 1<<30
			}
			return quotaField{Amount: strconv.FormatFloat(math.Round(float64(n)/size*1000)/1000, 'f', -1, 64), Unit: unit}
		},
		// adminPage names an administration page by its path word.
		"adminPage": func(p string) string {
			return map[string]string{"users": "Users", "namespaces": "Namespaces", "mirrors": "Mirrors", "scanner": "Scanner",
				"health": "Health", "audit": "Audit log"}[p]
		},
		"plural":     plural,
		"severities": func() []string { return models.Severities },
		"hooks": func(base string, hooks []models.Webhook, csrf string, form ...formState) hooksView {
			v := hooksView{Base: base, Hooks: hooks, CSRF: csrf}
			if len(form) > 0 && form[0].Form == "webhooks" {
				v.Form = form[0]
			}
			return v
		},
		"trustForms": func(base, parent string, keys []models.SigningKey, policy *hub.PolicyView, rules []models.ImmutableRule, csrf string, form ...formState) trustView {
			v := trustView{Base: base, Parent: parent, Keys: keys, Policy: policy, Rules: rules, CSRF: csrf}
			if len(form) > 0 {
				v.Form = form[0]
			}
			return v
		},
		"add":  func(a, b int) int { return a + b },
		"sub":  func(a, b int) int { return a - b },
		"date": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
		"initial": func(s string) string {
			if s == "" {
				return "?"
			}
			return strings.ToUpper(s[:1])
		},
		"count": func(n int64) string {
			switch {
			case n >= 1_000_000:
				return fmt.Sprintf("%.1fM", float64(n)/1e6)
			case n >= 10_000:
				return fmt.Sprintf("%dK", n/1000)
			case n >= 1_000:
				return fmt.Sprintf("%.1fK", float64(n)/1e3)
			}
			return fmt.Sprint(n)
		},
	}
}

// kvView is a table of keys and values (labels, annotations).
type kvView struct {
	Class string
	Rows  []keyValue
}

// referrersView is one level of a referrers tree, in a repository.
type referrersView struct {
	Repo  string
	Items []hub.Referrer
}

// hooksView is the argument of the "hooks" template.
type hooksView struct {
	Base  string
	Hooks []models.Webhook
	CSRF  string
	// Form is the add form as sent, when it was refused.
	Form formState
}

// trustView is the argument of the "trust" template: the signing keys
// and policy forms of a repository (Parent is its namespace) or of a
// namespace (Parent "").
type trustView struct {
	Base, Parent string
	Keys         []models.SigningKey
	Policy       *hub.PolicyView
	Rules        []models.ImmutableRule
	CSRF         string
	Form         formState
}

// formState is a refused form (the zero value: none), to show again with its error next to it
// and what was typed kept (never a password or secret).
type formState struct {
	Form string // which form of the page
	Err  string
	Sent url.Values
	// Preview is the Markdown of the form as it would show once saved,
	// when the form asked for a preview rather than to be saved.
	Preview template.HTML
}

// PreviewOf is the preview of form, if form asked for one.
func (f formState) PreviewOf(form string) template.HTML {
	if f.Form != form {
		return ""
	}
	return f.Preview
}

// Error is the form's error, if form is the refused one.
func (f formState) Error(form string) string {
	if f.Form != form {
		return ""
	}
	return f.Err
}

// Value is what was typed in field of form, if form is the refused one,
// else current.
func (f formState) Value(form, field, current string) string {
	if f.Form != form {
		return current
	}
	return f.Sent.Get(field)
}

// Checked reports whether value was among field's choices as sent, or,
// if form was not the refused one, def.
func (f formState) Checked(form, field, value string, def bool) bool {
	if f.Form != form {
		return def
	}
	return slices.Contains(f.Sent[field], value)
}

// ago says how long ago t was, as people say it.
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d.Minutes()), "minute") + " ago"
	case d < 24*time.Hour:
		return plural(int(d.Hours()), "hour") + " ago"
	case d < 30*24*time.Hour:
		return plural(int(d.Hours()/24), "day") + " ago"
	case d < 365*24*time.Hour:
		return plural(int(d.Hours()/24/30), "month") + " ago"
	}
	return plural(int(d.Hours()/24/365), "year") + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	if stem, ok := strings.CutSuffix(unit, "y"); ok && !strings.HasSuffix(stem, "a") && !strings.HasSuffix(stem, "e") {
		return fmt.Sprintf("%d %sies", n, stem) // repository, repositories
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func shortDigest(d string) string {
	if _, hex, ok := strings.Cut(d, ":"); ok && len(hex) > 12 {
		return hex[:12]
	}
	return d
}

// scanCounts says a scan's counts the way a badge does, most severe
// first: "1 critical · 2 high" ("" when there are none).
func scanCounts(c models.SeverityCounts) string {
	var parts []string
	for _, n := range []struct {
		n    int
		name string
	}{{c.Critical, "critical"}, {c.High, "high"}, {c.Medium, "medium"}, {c.Low, "low"}, {c.Unknown, "unknown"}} {
		if n.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n.n, n.name))
		}
	}
	return strings.Join(parts, " · ")
}

// quotaField is a quota as the admin console's form shows it.
type quotaField struct{ Amount, Unit string }
