package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
)

// Immutable tag rules, the same under a repository and under a
// namespace: .../immutable-tags[/{rule}].

type immutableRuleJSON struct {
	ID        int64     `json:"id"`
	Pattern   string    `json:"pattern"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

func toImmutableRuleJSON(r *models.ImmutableRule) immutableRuleJSON {
	return immutableRuleJSON{ID: r.ID, Pattern: r.Pattern, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt}
}

type immutableRuleBody struct {
	Pattern string `json:"pattern"`
}

func (a *immutableAPI) listRules(c *gin.Context) {
	rs, err := a.immutability.Rules(c.Request.Context(), identity(c), hookTarget(c))
	if err != nil {
		a.error(c, err)
		return
	}
	out := make([]immutableRuleJSON, 0, len(rs))
	for i := range rs {
		out = append(out, toImmutableRuleJSON(&rs[i]))
	}
	c.JSON(http.StatusOK, out)
}

func (a *immutableAPI) createRule(c *gin.Context, body *immutableRuleBody) {
	r, err := a.immutability.AddRule(c.Request.Context(), identity(c), hookTarget(c), body.Pattern)
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusCreated, toImmutableRuleJSON(r))
}

func (a *immutableAPI) deleteRule(c *gin.Context) {
	n, ok := pathID(c, "rule")
	if !ok {
		return
	}
	if err := a.immutability.DeleteRule(c.Request.Context(), identity(c), hookTarget(c), n); err != nil {
		a.error(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
