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

type newRepositoryBody struct {
	Namespace   string `json:"namespace"`
	Name        string `json:"name"`
	Visibility  string `json:"visibility"`
	Description string `json:"description"`
}

func (a *reposAPI) createRepository(c *gin.Context, body *newRepositoryBody) {
	r, err := a.repos.Create(c.Request.Context(), identity(c), hub.CreateRepositoryInput{
		Namespace: body.Namespace, Name: body.Name, Visibility: body.Visibility, Description: body.Description,
	})
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusCreated, toRepoJSON(r))
}

func (a *reposAPI) getRepository(c *gin.Context) {
	r, err := a.repos.Get(c.Request.Context(), identity(c), c.Param("repo"))
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, toRepoJSON(r))
}

type repositoryPatchBody struct {
	Visibility  *string `json:"visibility"`
	Description *string `json:"description"`
	Readme      *string `json:"readme"`
}

func (a *reposAPI) patchRepository(c *gin.Context, body *repositoryPatchBody) {
	r, err := a.repos.Update(c.Request.Context(), identity(c), c.Param("repo"), hub.RepositoryPatch{
		Visibility: body.Visibility, Description: body.Description, Readme: body.Readme,
	})
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, toRepoJSON(r))
}

func (a *reposAPI) deleteRepository(c *gin.Context) {
	if err := a.repos.Delete(c.Request.Context(), identity(c), c.Param("repo")); err != nil {
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

func (a *reposAPI) listTags(c *gin.Context) {
	limit, offset := page(c)
	kinds, err := hub.TagKinds(c.Query("show"))
	if err != nil {
		a.error(c, err)
		return
	}
	q := hub.TagQuery{Filter: c.Query("q"), Sort: c.Query("sort"), Kinds: kinds, Limit: limit, Offset: offset}
	tags, total, err := a.repos.TagPage(c.Request.Context(), identity(c), c.Param("repo"), q)
	if err != nil {
		a.error(c, err)
		return
	}
	c.Header("X-Total-Count", strconv.FormatInt(total, 10))
	c.JSON(http.StatusOK, tags)
}

// getManifest describes a tag's or a digest's manifest: its platforms,
// layers, history, config and what is attached to it (:ref is a tag or a
// digest).
func (a *reposAPI) getManifest(c *gin.Context) {
	ref := hub.ManifestRef{Tag: c.Param("ref")}
	if strings.Contains(ref.Tag, ":") {
		ref = hub.ManifestRef{Digest: ref.Tag}
	}
	m, err := a.inspect.Describe(c.Request.Context(), identity(c), c.Param("repo"), ref)
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, m)
}

type deleteTagsBody struct {
	Tags   []string `json:"tags"`
	DryRun bool     `json:"dry_run"`
}

type deleteTagsJSON struct {
	Tags      int      `json:"tags"`
	Manifests int      `json:"manifests"`
	Deleted   []string `json:"deleted"`
	Digests   []string `json:"digests"`
	Missing   []string `json:"missing"`
	DryRun    bool     `json:"dry_run"`
}

// deleteTags deletes many tags at once, with the manifests only they
// kept; dry_run says what would go and deletes nothing.
func (a *reposAPI) deleteTags(c *gin.Context, body *deleteTagsBody) {
	d, err := a.repos.DeleteTags(c.Request.Context(), identity(c), c.Param("repo"), body.Tags, body.DryRun)
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, deleteTagsJSON{Tags: len(d.Tags), Manifests: len(d.Manifests), Deleted: d.Tags,
		Digests: d.Manifests, Missing: d.Missing, DryRun: body.DryRun})
}

type collaboratorJSON struct {
	User       string `json:"user"`
	Permission string `json:"permission"`
}

func (a *reposAPI) listCollaborators(c *gin.Context) {
	cs, err := a.repos.Collaborators(c.Request.Context(), identity(c), c.Param("repo"))
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

type collaboratorBody struct {
	Permission string `json:"permission"`
}

func (a *reposAPI) setCollaborator(c *gin.Context, body *collaboratorBody) {
	user := c.Param("user")
	if err := a.repos.SetCollaborator(c.Request.Context(), identity(c), c.Param("repo"), user, body.Permission); err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, collaboratorJSON{User: user, Permission: body.Permission})
}

func (a *reposAPI) removeCollaborator(c *gin.Context) {
	if err := a.repos.RemoveCollaborator(c.Request.Context(), identity(c), c.Param("repo"), c.Param("user")); err != nil {
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
