package web

import (
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/server/hub"
)

// teamPages are an organization's teams, on its page for its owners:
// POST /u/{org}/teams makes one, POST /u/{org}/teams/{team} saves one,
// POST /u/{org}/teams/{team}/delete removes one.
type teamPages struct {
	*renderer
	teams *hub.Teams
}

// words splits a textarea of names (by lines, spaces or commas).
func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

func teamForm(c *gin.Context) hub.TeamInput {
	return hub.TeamInput{Name: c.PostForm("name"), Description: strings.TrimSpace(c.PostForm("description")),
		Permission: c.PostForm("permission"), AllRepositories: c.PostForm("all_repositories") == "on",
		Members: words(c.PostForm("members")), Repositories: words(c.PostForm("repositories"))}
}

// result answers a team form on the organization's page.
func (w *teamPages) result(c *gin.Context, org string, err error, ok string) {
	w.formResult(c, "/u/"+org+"#teams", err, ok)
}

func (w *teamPages) create(c *gin.Context) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	org := c.Param("name")
	t, err := w.teams.Create(c.Request.Context(), id, org, teamForm(c))
	msg := ""
	if err == nil {
		msg = "Team " + t.Name + " created."
	}
	w.result(c, org, err, msg)
}

func (w *teamPages) save(c *gin.Context) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	org, name := c.Param("name"), c.Param("team")
	_, err := w.teams.Update(c.Request.Context(), id, org, name, teamForm(c))
	w.result(c, org, err, "Team "+name+" saved.")
}

func (w *teamPages) remove(c *gin.Context) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	org, name := c.Param("name"), c.Param("team")
	err := w.teams.Delete(c.Request.Context(), id, org, name)
	w.result(c, org, err, "Team "+name+" deleted: its members keep what the organization gives them otherwise.")
}
