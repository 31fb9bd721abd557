package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/apierr"
	"github.com/wharfhub/wharf/server/hub"
	"github.com/wharfhub/wharf/server/retention"
)

// Retention policies, the same under a repository and under a namespace:
// .../retention, .../retention/preview, .../retention/run and
// .../retention/runs.

type retentionRuleBody struct {
	Keep    string `json:"keep"`
	Count   int64  `json:"count,omitempty"`
	Days    int64  `json:"days,omitempty"`
	Pattern string `json:"pattern"`
	Not     bool   `json:"not"`
}

type retentionBody struct {
	Rules        []retentionRuleBody `json:"rules"`
	UntaggedDays int64               `json:"untagged_days"`
}

type retentionRuleJSON struct {
	retentionRuleBody
	// Describe says what the rule keeps, as the page says it.
	Describe string `json:"describe"`
}

type retentionJSON struct {
	Rules        []retentionRuleJSON `json:"rules"`
	UntaggedDays int                 `json:"untagged_days"`
	// Owner is whose policy holds: repository or namespace; a repository
	// with no policy of its own shows its namespace's, inherited.
	Owner     string    `json:"owner"`
	Inherited bool      `json:"inherited"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toRetentionJSON(v *hub.RetentionView) retentionJSON {
	out := retentionJSON{Owner: v.Owner, Inherited: v.Inherited, UpdatedBy: v.UpdatedBy, UpdatedAt: v.UpdatedAt}
	out.UntaggedDays = v.UntaggedDays
	out.Rules = make([]retentionRuleJSON, 0, len(v.Rules))
	for _, r := range v.Rules {
		out.Rules = append(out.Rules, retentionRuleJSON{retentionRuleBody: retentionRuleBody{Keep: r.Keep, Count: int64(r.Count),
			Days: int64(r.Days), Pattern: r.Pattern, Not: r.Not}, Describe: r.Describe()})
	}
	return out
}

// policy is the policy the body asks for; numbers past what a policy
// holds are cut to one past the bound, which the policy's check refuses.
func (b *retentionBody) policy() retention.Policy {
	p := retention.Policy{UntaggedDays: bound(b.UntaggedDays), Rules: make([]retention.Rule, 0, len(b.Rules))}
	for _, r := range b.Rules {
		p.Rules = append(p.Rules, retention.Rule{Keep: r.Keep, Count: bound(r.Count), Days: bound(r.Days), Pattern: r.Pattern, Not: r.Not})
	}
	return p
}

func bound(n int64) int {
	const limit = retention.MaxCount + 1
	return int(max(min(n, limit), -1))
}

func (a *retentionAPI) getPolicy(c *gin.Context) {
	v, err := a.retention.Policy(c.Request.Context(), identity(c), hookTarget(c))
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, toRetentionJSON(v))
}

func (a *retentionAPI) setPolicy(c *gin.Context, body *retentionBody) {
	v, err := a.retention.SetPolicy(c.Request.Context(), identity(c), hookTarget(c), body.policy())
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, toRetentionJSON(v))
}

func (a *retentionAPI) deletePolicy(c *gin.Context) {
	if err := a.retention.DeletePolicy(c.Request.Context(), identity(c), hookTarget(c)); err != nil {
		a.error(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

type retentionTagJSON struct {
	Name     string     `json:"name"`
	Digest   string     `json:"digest"`
	PushedAt time.Time  `json:"pushed_at"`
	PulledAt *time.Time `json:"pulled_at"`
	Keep     bool       `json:"keep"`
	Reason   string     `json:"reason"`
}

type retentionOutcomeJSON struct {
	Repository string             `json:"repository"`
	Policy     string             `json:"policy"`
	Tags       []retentionTagJSON `json:"tags"`
	// Removed is what goes (a preview) or went (a run).
	Removed struct {
		Tags      []string `json:"tags"`
		Manifests []string `json:"manifests"`
		Spared    []string `json:"spared"`
		Bytes     int64    `json:"bytes"`
	} `json:"removed"`
	Run *retentionRunJSON `json:"run,omitempty"`
}

type retentionOutcomesJSON struct {
	DryRun       bool                   `json:"dry_run"`
	Repositories []retentionOutcomeJSON `json:"repositories"`
}

func toOutcomesJSON(os []*retention.Outcome, dryRun bool) retentionOutcomesJSON {
	out := retentionOutcomesJSON{DryRun: dryRun, Repositories: make([]retentionOutcomeJSON, 0, len(os))}
	for _, o := range os {
		j := retentionOutcomeJSON{Repository: o.Repository, Policy: o.Policy, Tags: make([]retentionTagJSON, 0, len(o.Decisions))}
		for _, d := range o.Decisions {
			j.Tags = append(j.Tags, retentionTagJSON{Name: d.Tag.Name, Digest: d.Tag.Digest, PushedAt: d.Tag.PushedAt,
				PulledAt: d.Tag.PulledAt, Keep: d.Keep, Reason: d.Reason})
		}
		j.Removed.Tags, j.Removed.Manifests, j.Removed.Spared, j.Removed.Bytes = o.Removed.Tags, o.Removed.Manifests, o.Removed.Spared, o.Removed.Bytes
		if o.Run != nil {
			r := toRunJSON(o.Run)
			j.Run = &r
		}
		out.Repositories = append(out.Repositories, j)
	}
	return out
}

func (a *retentionAPI) preview(c *gin.Context) {
	os, err := a.retention.Preview(c.Request.Context(), identity(c), hookTarget(c))
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, toOutcomesJSON(os, true))
}

func (a *retentionAPI) run(c *gin.Context) {
	os, err := a.retention.Run(c.Request.Context(), identity(c), hookTarget(c))
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, toOutcomesJSON(os, false))
}

type retentionRunJSON struct {
	ID            int64       `json:"id"`
	Repository    string      `json:"repository"`
	Policy        string      `json:"policy"`
	Cause         string      `json:"cause"`
	Actor         string      `json:"actor,omitempty"`
	StartedAt     time.Time   `json:"started_at"`
	FinishedAt    time.Time   `json:"finished_at"`
	Status        string      `json:"status"`
	Error         string      `json:"error,omitempty"`
	TagCount      int         `json:"tag_count"`
	ManifestCount int         `json:"manifest_count"`
	Bytes         int64       `json:"bytes"`
	Tags          rawJSONList `json:"tags"`
	Manifests     rawJSONList `json:"manifests"`
}

func toRunJSON(r *models.RetentionRun) retentionRunJSON {
	return retentionRunJSON{ID: r.ID, Repository: r.Repository, Policy: r.Policy, Cause: r.Cause, Actor: r.Actor,
		StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Status: r.Status, Error: r.Error, TagCount: r.TagCount,
		ManifestCount: r.ManifestCount, Bytes: r.Bytes, Tags: rawJSONList(r.Tags), Manifests: rawJSONList(r.Manifests)}
}

// rawJSONList is a JSON list stored as text, written as it is.
type rawJSONList string

func (l rawJSONList) MarshalJSON() ([]byte, error) {
	if l == "" {
		return []byte("[]"), nil
	}
	return []byte(l), nil
}

func (a *retentionAPI) listRuns(c *gin.Context) {
	var before int64
	if s := c.Query("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			fail(c, apierr.Invalid, "before must be a run id")
			return
		}
		before = n
	}
	limit := 20
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			fail(c, apierr.Invalid, "limit must be 1 to 100")
			return
		}
		limit = n
	}
	runs, err := a.retention.Runs(c.Request.Context(), identity(c), hookTarget(c), before, limit)
	if err != nil {
		a.error(c, err)
		return
	}
	out := struct {
		Runs []retentionRunJSON `json:"runs"`
		Next string             `json:"next,omitempty"`
	}{Runs: make([]retentionRunJSON, 0, len(runs))}
	for i := range runs {
		out.Runs = append(out.Runs, toRunJSON(&runs[i]))
	}
	if len(runs) == limit {
		out.Next = strconv.FormatInt(runs[len(runs)-1].ID, 10)
	}
	c.JSON(http.StatusOK, out)
}
