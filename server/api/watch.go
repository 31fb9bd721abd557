package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

type watchJSON struct {
	Watching bool `json:"watching"`
}

// getWatch serves GET .../watch: whether the caller watches the
// repository.
func (a *socialAPI) getWatch(c *gin.Context) {
	on, err := a.social.Watching(c.Request.Context(), identity(c), c.Param("repo"))
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, watchJSON{Watching: on})
}

func (a *socialAPI) watch(c *gin.Context)   { a.setWatch(c, true) }
func (a *socialAPI) unwatch(c *gin.Context) { a.setWatch(c, false) }

// setWatch watches or stops watching as the caller; both are idempotent.
func (a *socialAPI) setWatch(c *gin.Context, on bool) {
	if err := a.social.Watch(c.Request.Context(), identity(c), c.Param("repo"), on); err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, watchJSON{Watching: on})
}
