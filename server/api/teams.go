package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/hub"
)

// Teams of an organization: /orgs/{org}/teams[/{team}].

type teamJSON struct {
	Name            string    `json:"name"`
	Description     string    `json:"description"`
	Permission      string    `json:"permission"`
	AllRepositories bool      `json:"all_repositories"`
	Members         []string  `json:"members"`
	Repositories    []string  `json:"repositories"`
	CreatedAt       time.Time `json:"created_at"`
}

func toTeamJSON(t *models.Team) teamJSON {
	return teamJSON{Name: t.Name, Description: t.Description, Permission: t.Permission, AllRepositories: t.AllRepositories,
		Members: t.Members, Repositories: t.Repositories, CreatedAt: t.CreatedAt}
}

type teamBody struct {
	Name            string   `json:"name"`
	Description     string   `json:"description"`
	Permission      string   `json:"permission"`
	AllRepositories bool     `json:"all_repositories"`
	Members         []string `json:"members"`
	Repositories    []string `json:"repositories"`
}

// teamUpdateBody is a team's new state: all of it but its name, which
// stays.
type teamUpdateBody struct {
	Description     string   `json:"description"`
	Permission      string   `json:"permission"`
	AllRepositories bool     `json:"all_repositories"`
	Members         []string `json:"members"`
	Repositories    []string `json:"repositories"`
}

func (b *teamBody) input() hub.TeamInput {
	return hub.TeamInput{Name: b.Name, Description: b.Description, Permission: b.Permission, AllRepositories: b.AllRepositories,
		Members: b.Members, Repositories: b.Repositories}
}

func (a *teamsAPI) listTeams(c *gin.Context) {
	ts, err := a.teams.List(c.Request.Context(), identity(c), c.Param("org"))
	if err != nil {
		a.error(c, err)
		return
	}
	out := make([]teamJSON, 0, len(ts))
	for i := range ts {
		out = append(out, toTeamJSON(&ts[i]))
	}
	c.JSON(http.StatusOK, out)
}

func (a *teamsAPI) createTeam(c *gin.Context, body *teamBody) {
	t, err := a.teams.Create(c.Request.Context(), identity(c), c.Param("org"), body.input())
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusCreated, toTeamJSON(t))
}

func (a *teamsAPI) getTeam(c *gin.Context) {
	t, err := a.teams.Get(c.Request.Context(), identity(c), c.Param("org"), c.Param("team"))
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, toTeamJSON(t))
}

func (a *teamsAPI) updateTeam(c *gin.Context, body *teamUpdateBody) {
	in := (&teamBody{Description: body.Description, Permission: body.Permission, AllRepositories: body.AllRepositories,
		Members: body.Members, Repositories: body.Repositories}).input()
	t, err := a.teams.Update(c.Request.Context(), identity(c), c.Param("org"), c.Param("team"), in)
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, toTeamJSON(t))
}

func (a *teamsAPI) deleteTeam(c *gin.Context) {
	if err := a.teams.Delete(c.Request.Context(), identity(c), c.Param("org"), c.Param("team")); err != nil {
		a.error(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
