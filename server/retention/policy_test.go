package retention

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wharfhub/wharf/models"
)

var now = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func daysAgo(d int) time.Time { return now.Add(-time.Duration(d) * 24 * time.Hour) }

// tagsAt are tags pushed d days ago (and pulled p days ago, -1: never).
func tagsAt(spec ...any) []models.RetentionTag {
	var out []models.RetentionTag
	for i := 0; i < len(spec); i += 3 {
		t := models.RetentionTag{Name: spec[i].(string), ManifestID: int64(i + 1), PushedAt: daysAgo(spec[i+1].(int))}
		if p := spec[i+2].(int); p >= 0 {
			at := daysAgo(p)
			t.PulledAt = &at
		}
		out = append(out, t)
	}
	return out
}

const sigTag = "sha256-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.sig"

func TestEvaluate(t *testing.T) {
	tags := tagsAt(
		"v3", 1, -1,
		"v2", 5, 2,
		"latest", 6, 0,
		"v1", 40, 40,
		"dev-2", 3, -1,
		"dev-1", 50, 1,
		sigTag, 50, -1,
	)
	tests := []struct {
		name  string
		rules []Rule
		keep  []string
	}{
		{"no rules keep every tag", nil, []string{"dev-1", "dev-2", "latest", sigTag, "v1", "v2", "v3"}},
		{"newest 2 of all", []Rule{{Keep: KeepNewest, Count: 2, Pattern: "*"}}, []string{"dev-2", sigTag, "v3"}},
		{"newest 2 of v*", []Rule{{Keep: KeepNewest, Count: 2, Pattern: "v*"}}, []string{sigTag, "v2", "v3"}},
		{"newest of what does not match v*", []Rule{{Keep: KeepNewest, Count: 1, Pattern: "v*", Not: true}}, []string{"dev-2", sigTag}},
		{"pushed within 5 days", []Rule{{Keep: KeepPushedWithin, Days: 5, Pattern: "*"}}, []string{"dev-2", sigTag, "v2", "v3"}},
		{"pulled within 2 days", []Rule{{Keep: KeepPulledWithin, Days: 2, Pattern: "*"}}, []string{"dev-1", "latest", sigTag, "v2"}},
		{"always latest, newest 1 of v*", []Rule{{Keep: KeepAlways, Pattern: "latest"}, {Keep: KeepNewest, Count: 1, Pattern: "v*"}},
			[]string{"latest", sigTag, "v3"}},
		{"rules combine: any keeps", []Rule{
			{Keep: KeepPulledWithin, Days: 1, Pattern: "dev-*"},
			{Keep: KeepPushedWithin, Days: 30, Pattern: "v*"},
		}, []string{"dev-1", sigTag, "v2", "v3"}},
		{"a pattern that matches nothing keeps nothing", []Rule{{Keep: KeepAlways, Pattern: "release-*"}}, []string{sigTag}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Policy{Rules: tc.rules}
			var kept []string
			for _, d := range p.Evaluate(tags, now) {
				if d.Keep {
					kept = append(kept, d.Tag.Name)
				}
				if d.Reason == "" {
					t.Errorf("%s has no reason", d.Tag.Name)
				}
			}
			slices.Sort(kept)
			if !slices.Equal(kept, tc.keep) {
				t.Errorf("kept %q, want %q", kept, tc.keep)
			}
		})
	}
}

func TestEvaluateSaysWhichRuleKeeps(t *testing.T) {
	p := Policy{Rules: []Rule{{Keep: KeepAlways, Pattern: "latest"}, {Keep: KeepNewest, Count: 1, Pattern: "*"}}}
	ds := p.Evaluate(tagsAt("latest", 1, -1, "old", 9, -1), now)
	if ds[0].Reason != "rule 1: always tags matching latest" || ds[1].Reason != "no rule keeps it" || ds[1].Keep {
		t.Errorf("decisions = %+v", ds)
	}
}

func TestCheck(t *testing.T) {
	many := make([]Rule, MaxRules+1)
	for i := range many {
		many[i] = Rule{Keep: KeepAlways}
	}
	tests := []struct {
		name   string
		policy Policy
		say    string // "" for a policy that holds
	}{
		{"newest", Policy{Rules: []Rule{{Keep: KeepNewest, Count: 10}}}, ""},
		{"untagged only", Policy{UntaggedDays: 7}, ""},
		{"every kind", Policy{Rules: []Rule{{Keep: KeepPushedWithin, Days: 3}, {Keep: KeepPulledWithin, Days: MaxDays}, {Keep: KeepAlways, Pattern: "release-*", Not: true}}}, ""},
		{"nothing to do", Policy{}, "needs a rule"},
		{"too many rules", Policy{Rules: many}, "at most 20 rules"},
		{"unknown keep", Policy{Rules: []Rule{{Keep: "oldest"}}}, `Rule 1 keeps "oldest"`},
		{"newest without a count", Policy{Rules: []Rule{{Keep: KeepNewest}}}, "count from 1"},
		{"newest with days", Policy{Rules: []Rule{{Keep: KeepNewest, Count: 1, Days: 2}}}, "count from 1"},
		{"count too big", Policy{Rules: []Rule{{Keep: KeepNewest, Count: MaxCount + 1}}}, "count from 1"},
		{"within no days", Policy{Rules: []Rule{{Keep: KeepPushedWithin}}}, "1 to 3650 days"},
		{"within too long", Policy{Rules: []Rule{{Keep: KeepPulledWithin, Days: MaxDays + 1}}}, "1 to 3650 days"},
		{"always with a count", Policy{Rules: []Rule{{Keep: KeepAlways, Count: 1}}}, "no count"},
		{"bad pattern", Policy{Rules: []Rule{{Keep: KeepAlways, Pattern: "v[1"}}}, "Rule 1: a tag pattern"},
		{"negative untagged", Policy{UntaggedDays: -1}, "Untagged manifests go after"},
		{"untagged too long", Policy{UntaggedDays: MaxDays + 1}, "Untagged manifests go after"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.policy.Check()
			switch {
			case tc.say == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.say != "" && (err == nil || !errors.Is(err, ErrPolicy) || !strings.Contains(err.Error(), tc.say)):
				t.Fatalf("err = %v, want one saying %q", err, tc.say)
			}
		})
	}
	p := Policy{Rules: []Rule{{Keep: KeepAlways}}}
	if err := p.Check(); err != nil || p.Rules[0].Pattern != "*" {
		t.Errorf("default pattern = %q (%v), want *", p.Rules[0].Pattern, err)
	}
}

func FuzzPolicy(f *testing.F) {
	f.Add(`[{"keep":"newest","count":3,"pattern":"v*"}]`, 7)
	f.Add(`[{"keep":"always","pattern":"[","not":true}]`, 0)
	f.Fuzz(func(t *testing.T, rules string, untagged int) {
		p, err := Parse(&models.RetentionPolicy{Rules: rules, UntaggedDays: untagged})
		if err != nil {
			return
		}
		if p.Check() != nil {
			return
		}
		again, err := Parse(&models.RetentionPolicy{Rules: p.RulesJSON(), UntaggedDays: p.UntaggedDays})
		if err != nil || again.Check() != nil {
			t.Fatalf("a policy that holds does not read back: %v", err)
		}
		p.Evaluate(tagsAt("v1", 1, 1, "x", 2, -1), now)
	})
}
