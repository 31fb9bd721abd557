package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/server/hub"
)

type searchHit struct {
	Namespace   string    `json:"namespace"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	StarCount   int64     `json:"star_count"`
	PullCount   int64     `json:"pull_count"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// search serves GET /api/v1/search?q=&page=&per_page=&sort=: only what
// the caller may see, counted the same way.
func (a *searchAPI) search(c *gin.Context) {
	limit, offset := page(c)
	res, err := a.discover.Search(c.Request.Context(), identity(c), c.Query("q"), c.Query("sort"), limit, offset)
	if err != nil {
		a.error(c, err)
		return
	}
	out := make([]searchHit, 0, len(res.Repos))
	for i := range res.Repos {
		r := &res.Repos[i]
		j := toRepoJSON(&hub.Repository{Repository: *r})
		out = append(out, searchHit{Namespace: j.Namespace, Name: j.Name, Description: r.Description,
			StarCount: r.StarCount, PullCount: r.PullCount, UpdatedAt: r.UpdatedAt})
	}
	c.JSON(http.StatusOK, gin.H{"total": res.Total, "results": out})
}
