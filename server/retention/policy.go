// Package retention prunes repositories by their retention policies:
// rules, as Harbor's, that say which tags to keep, and an age past which
// untagged manifests go. A run weighs the rules (Evaluate), then removes
// what they leave in one transaction per repository (models.TagStore.
// Prune), never a tag an immutability rule protects, a child of an
// index that stays or a referrer of an image that stays; garbage
// collection then reclaims the bytes.
package retention

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"time"

	"github.com/wharfhub/wharf/models"
)

// What a rule keeps of the tags it selects.
const (
	KeepNewest       = "newest"        // the Count most recently pushed
	KeepPushedWithin = "pushed_within" // those pushed within Days days
	KeepPulledWithin = "pulled_within" // those pulled within Days days
	KeepAlways       = "always"        // all of them
)

// Bounds of a policy.
const (
	MaxRules = 20
	MaxCount = 10000
	MaxDays  = 3650
)

// Rule keeps some of the tags that match (or, with Not, that do not
// match) Pattern, a path.Match pattern such as v* or release-*.
type Rule struct {
	Keep    string `json:"keep"`
	Count   int    `json:"count,omitempty"`
	Days    int    `json:"days,omitempty"`
	Pattern string `json:"pattern"`
	Not     bool   `json:"not,omitempty"`
}

// Policy is what a repository, or a namespace, keeps. A tag stays if
// any rule keeps it; with no rules every tag stays. Untagged manifests
// go once older than UntaggedDays days (0: they stay).
type Policy struct {
	Rules        []Rule `json:"rules"`
	UntaggedDays int    `json:"untagged_days"`
}

// ErrPolicy is a policy that cannot hold; its message says why, for the
// person who wrote it.
var ErrPolicy = errors.New("invalid retention policy")

type policyError struct{ msg string }

func (e *policyError) Error() string { return e.msg }
func (e *policyError) Unwrap() error { return ErrPolicy }

func refuse(format string, args ...any) error { return &policyError{fmt.Sprintf(format, args...)} }

// Check refuses a policy that cannot hold, with a sentence that says
// which part and why; it fills in a rule's default pattern (*).
func (p *Policy) Check() error {
	if len(p.Rules) > MaxRules {
		return refuse("A policy has at most %d rules.", MaxRules)
	}
	if len(p.Rules) == 0 && p.UntaggedDays == 0 {
		return refuse("A policy needs a rule that keeps tags, or a number of days after which untagged manifests go.")
	}
	if p.UntaggedDays < 0 || p.UntaggedDays > MaxDays {
		return refuse("Untagged manifests go after 1 to %d days (0 keeps them).", MaxDays)
	}
	for i := range p.Rules {
		r := &p.Rules[i]
		n := i + 1
		if r.Pattern == "" {
			r.Pattern = "*"
		}
		if !models.ValidImmutablePattern(r.Pattern) {
			return refuse("Rule %d: a tag pattern is 1 to 128 characters of a tag, with * ? and [...] as wildcards (such as v* or release-*).", n)
		}
		switch r.Keep {
		case KeepNewest:
			if r.Count < 1 || r.Count > MaxCount || r.Days != 0 {
				return refuse("Rule %d: keeping the newest tags takes a count from 1 to %d.", n, MaxCount)
			}
		case KeepPushedWithin, KeepPulledWithin:
			if r.Days < 1 || r.Days > MaxDays || r.Count != 0 {
				return refuse("Rule %d: keeping what was pushed or pulled within some days takes 1 to %d days.", n, MaxDays)
			}
		case KeepAlways:
			if r.Count != 0 || r.Days != 0 {
				return refuse("Rule %d: keeping always takes no count and no days.", n)
			}
		default:
			return refuse("Rule %d keeps %q; a rule keeps newest, pushed_within, pulled_within or always.", n, short(r.Keep))
		}
	}
	return nil
}

// short cuts what the caller typed to say it back.
func short(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

// Parse reads a stored policy.
func Parse(stored *models.RetentionPolicy) (Policy, error) {
	var p Policy
	if err := json.Unmarshal([]byte(stored.Rules), &p.Rules); err != nil {
		return p, fmt.Errorf("retention policy %d: %w", stored.ID, err)
	}
	p.UntaggedDays = stored.UntaggedDays
	return p, nil
}

// RulesJSON is the policy's rules as they are stored.
func (p Policy) RulesJSON() string {
	rules := p.Rules
	if rules == nil {
		rules = []Rule{}
	}
	b, _ := json.Marshal(rules)
	return string(b)
}

// attached matches the tags that hold what is attached to an image
// (cosign's sha256-HEX.sig, .att and .sbom, and the referrers tag
// sha256-HEX): they are no release of their own, and go with their
// image.
var attached = regexp.MustCompile(`^sha256-[0-9a-f]{64}(\.sig|\.att|\.sbom)?$`)

// Decision is what the rules decide for one tag.
type Decision struct {
	Tag models.RetentionTag
	// Keep is whether the tag stays; Reason says why, as a person reads
	// it ("rule 1: newest 3 of v*"), or why it goes.
	Keep   bool
	Reason string
}

// Evaluate weighs the rules over a repository's tags at now: a decision
// per tag, in the order given.
func (p Policy) Evaluate(tags []models.RetentionTag, now time.Time) []Decision {
	out := make([]Decision, len(tags))
	for i, t := range tags {
		out[i] = Decision{Tag: t}
		switch {
		case attached.MatchString(t.Name):
			out[i].Keep, out[i].Reason = true, "attached to an image: goes with it"
		case len(p.Rules) == 0:
			out[i].Keep, out[i].Reason = true, "no rule removes tags"
		}
	}
	for n, r := range p.Rules {
		var selected []int
		for i, t := range tags {
			if !attached.MatchString(t.Name) && r.selects(t.Name) {
				selected = append(selected, i)
			}
		}
		if r.Keep == KeepNewest {
			sort.SliceStable(selected, func(a, b int) bool {
				return tags[selected[a]].PushedAt.After(tags[selected[b]].PushedAt)
			})
			if len(selected) > r.Count {
				selected = selected[:r.Count]
			}
		}
		for _, i := range selected {
			if out[i].Keep || !r.keeps(tags[i], now) {
				continue
			}
			out[i].Keep, out[i].Reason = true, fmt.Sprintf("rule %d: %s", n+1, r.Describe())
		}
	}
	for i := range out {
		if !out[i].Keep {
			out[i].Reason = "no rule keeps it"
		}
	}
	return out
}

func (r Rule) selects(tag string) bool {
	ok, _ := path.Match(r.Pattern, tag)
	return ok != r.Not
}

func (r Rule) keeps(t models.RetentionTag, now time.Time) bool {
	since := now.Add(-time.Duration(r.Days) * 24 * time.Hour)
	switch r.Keep {
	case KeepPushedWithin:
		return !t.PushedAt.Before(since)
	case KeepPulledWithin:
		return t.PulledAt != nil && !t.PulledAt.Before(since)
	}
	return true // newest (already cut to Count) and always
}

// Describe says what the rule keeps, as a person reads it.
func (r Rule) Describe() string {
	which := "tags matching " + r.Pattern
	if r.Not {
		which = "tags not matching " + r.Pattern
	}
	if r.Pattern == "*" && !r.Not {
		which = "all tags"
	}
	days := fmt.Sprintf("%d days", r.Days)
	if r.Days == 1 {
		days = "a day"
	}
	switch r.Keep {
	case KeepNewest:
		return fmt.Sprintf("the newest %d of %s", r.Count, which)
	case KeepPushedWithin:
		return fmt.Sprintf("%s pushed within %s", which, days)
	case KeepPulledWithin:
		return fmt.Sprintf("%s pulled within %s", which, days)
	}
	return "always " + which
}
