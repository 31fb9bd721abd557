package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/server/hub"
)

type repoJSON struct {
	Namespace   string    `json:"namespace"`
	Name        string    `json:"name"`
	Visibility  string    `json:"visibility"`
	Description string    `json:"description"`
	Readme      string    `json:"readme"`
	StarCount   int64     `json:"star_count"`
	PullCount   int64     `json:"pull_count"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func toRepoJSON(r *hub.Repository) repoJSON {
	_, name, _ := strings.Cut(r.Name, "/")
	return repoJSON{Namespace: r.Namespace, Name: name, Visibility: r.Visibility, Description: r.Description,
		Readme: r.Readme, StarCount: r.StarCount, PullCount: r.PullCount, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func (a *API) createRepository(c *gin.Context) {
	var body struct {
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
		Visibility  string `json:"visibility"`
		Description string `json:"description"`
	}
	if !bind(c, &body) {
		return
	}
	r, err := a.hub.CreateRepository(c.Request.Context(), identity(c), hub.CreateRepositoryInput{
		Namespace: body.Namespace, Name: body.Name, Visibility: body.Visibility, Description: body.Description,
	})
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusCreated, toRepoJSON(r))
}

// resources are the words that follow a repository name in API paths. A
// repository name is its namespace, then every segment up to one of them.
var resources = map[string]bool{"tags": true, "collaborators": true, "star": true, "stargazers": true, "comments": true, "webhooks": true}

// splitRepoPath splits "/ns/name[/more]/resource/..." into the repository
// name and the rest.
func splitRepoPath(p string) (name string, rest []string) {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	if len(segs) < 2 {
		return "", nil
	}
	i := 2
	for i < len(segs) && !resources[segs[i]] {
		i++
	}
	return strings.Join(segs[:i], "/"), segs[i:]
}

// repositoryRoute dispatches /api/v1/repositories/{ns}/{name}/...
func (a *API) repositoryRoute(c *gin.Context) {
	name, rest := splitRepoPath(c.Param("path"))
	if name == "" {
		fail(c, http.StatusNotFound, "not_found", "not found")
		return
	}
	m := c.Request.Method
	switch {
	case len(rest) == 0 && m == http.MethodGet:
		a.getRepository(c, name)
	case len(rest) == 0 && m == http.MethodPatch:
		a.patchRepository(c, name)
	case len(rest) == 0 && m == http.MethodDelete:
		a.deleteRepository(c, name)
	case len(rest) == 1 && rest[0] == "tags" && m == http.MethodGet:
		a.listTags(c, name)
	case len(rest) == 1 && rest[0] == "collaborators" && m == http.MethodGet:
		a.listCollaborators(c, name)
	case len(rest) == 2 && rest[0] == "collaborators" && m == http.MethodPut:
		a.setCollaborator(c, name, rest[1])
	case len(rest) == 2 && rest[0] == "collaborators" && m == http.MethodDelete:
		a.removeCollaborator(c, name, rest[1])
	default:
		if a.socialRoute(c, name, rest) || a.webhookRoute(c, hub.HookTarget{Repository: name}, rest) {
			return
		}
		fail(c, http.StatusNotFound, "not_found", "no such API endpoint")
	}
}

func (a *API) getRepository(c *gin.Context, name string) {
	r, err := a.hub.GetRepository(c.Request.Context(), identity(c), name)
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, toRepoJSON(r))
}

func (a *API) patchRepository(c *gin.Context, name string) {
	var body struct {
		Visibility  *string `json:"visibility"`
		Description *string `json:"description"`
		Readme      *string `json:"readme"`
	}
	if !bind(c, &body) {
		return
	}
	r, err := a.hub.UpdateRepository(c.Request.Context(), identity(c), name, hub.RepositoryPatch{
		Visibility: body.Visibility, Description: body.Description, Readme: body.Readme,
	})
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, toRepoJSON(r))
}

func (a *API) deleteRepository(c *gin.Context, name string) {
	if err := a.hub.DeleteRepository(c.Request.Context(), identity(c), name); err != nil {
		a.error(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// page reads page and per_page (1-100, default 25).
func page(c *gin.Context) (limit, offset int) {
	limit = 25
	if v, err := strconv.Atoi(c.Query("per_page")); err == nil && v > 0 {
		limit = min(v, 100)
	}
	p := 1
	if v, err := strconv.Atoi(c.Query("page")); err == nil && v > 0 && v < 1_000_000 {
		p = v
	}
	return limit, (p - 1) * limit
}

func (a *API) listTags(c *gin.Context, name string) {
	limit, offset := page(c)
	tags, err := a.hub.Tags(c.Request.Context(), identity(c), name, limit, offset)
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, tags)
}

type collaboratorJSON struct {
	User       string `json:"user"`
	Permission string `json:"permission"`
}

func (a *API) listCollaborators(c *gin.Context, name string) {
	cs, err := a.hub.Collaborators(c.Request.Context(), identity(c), name)
	if err != nil {
		a.error(c, err)
		return
	}
	out := make([]collaboratorJSON, 0, len(cs))
	for _, x := range cs {
		out = append(out, collaboratorJSON{User: x.Username, Permission: x.Permission})
	}
	c.JSON(http.StatusOK, out)
}

func (a *API) setCollaborator(c *gin.Context, name, user string) {
	var body struct {
		Permission string `json:"permission"`
	}
	if !bind(c, &body) {
		return
	}
	if err := a.hub.SetCollaborator(c.Request.Context(), identity(c), name, user, body.Permission); err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, collaboratorJSON{User: user, Permission: body.Permission})
}

func (a *API) removeCollaborator(c *gin.Context, name, user string) {
	if err := a.hub.RemoveCollaborator(c.Request.Context(), identity(c), name, user); err != nil {
		a.error(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func fields(s string) []string {
	f := strings.Fields(s)
	if f == nil {
		return []string{}
	}
	return f
}
