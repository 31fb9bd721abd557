package web

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
)

// HealthCheck is one line of the health page: what was looked at, whether
// it is well, and what was found.
type HealthCheck struct {
	Name   string
	OK     bool
	Detail string
}

// healthView is the health page's data.
type healthView struct {
	Checks []HealthCheck
	AllOK  bool
}

// health serves GET /admin/health: the database, the blob store, the
// search index's lag, the webhook queue and garbage collection, as this
// replica sees them now.
func (w *adminPages) health(c *gin.Context) {
	if !w.requireAdmin(c) {
		return
	}
	var checks []HealthCheck
	if w.cfg.Health != nil {
		checks = w.cfg.Health(c.Request.Context())
	}
	v := healthView{Checks: checks, AllOK: true}
	for _, ch := range checks {
		v.AllOK = v.AllOK && ch.OK
	}
	w.render(c, http.StatusOK, "admin_health.html", "Health", v)
}

// HealthFunc looks at the server's parts for the health page.
type HealthFunc func(ctx context.Context) []HealthCheck
