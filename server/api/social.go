package api

import (
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/server/apierr"
	"github.com/wharfhub/wharf/server/hub"
)

// Stars and comments under a repository:
//
//	GET|PUT|DELETE .../star          the caller's star: {"starred","star_count"}
//	GET            .../stargazers    [{"user"}]
//	GET|POST       .../comments      list (X-Total-Count) | {"body"} -> 201
//	GET|PATCH|DELETE .../comments/ID one comment; PATCH {"body"} by its author,
//	                                 DELETE by its author or a repository admin

type starJSON struct {
	Starred   bool  `json:"starred"`
	StarCount int64 `json:"star_count"`
}

func (a *socialAPI) getStar(c *gin.Context) {
	ctx, name := c.Request.Context(), c.Param("repo")
	r, err := a.repos.Get(ctx, identity(c), name)
	if err != nil {
		a.error(c, err)
		return
	}
	starred, err := a.social.IsStarred(ctx, identity(c), name)
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, starJSON{Starred: starred, StarCount: r.StarCount})
}

func (a *socialAPI) star(c *gin.Context)   { a.setStar(c, true) }
func (a *socialAPI) unstar(c *gin.Context) { a.setStar(c, false) }

// setStar stars or unstars as the caller; both are idempotent and answer
// 200 with the repository's star count afterwards.
func (a *socialAPI) setStar(c *gin.Context, on bool) {
	ctx, id, name := c.Request.Context(), identity(c), c.Param("repo")
	var err error
	if on {
		err = a.social.Star(ctx, id, name)
	} else {
		err = a.social.Unstar(ctx, id, name)
	}
	if err != nil {
		a.error(c, err)
		return
	}
	r, err := a.repos.Get(ctx, id, name)
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, starJSON{Starred: on, StarCount: r.StarCount})
}

type stargazerJSON struct {
	User string `json:"user"`
}

func (a *socialAPI) listStargazers(c *gin.Context) {
	limit, offset := page(c)
	users, err := a.social.Stargazers(c.Request.Context(), identity(c), c.Param("repo"), limit, offset)
	if err != nil {
		a.error(c, err)
		return
	}
	out := make([]stargazerJSON, 0, len(users))
	for _, u := range users {
		out = append(out, stargazerJSON{User: u})
	}
	c.JSON(http.StatusOK, out)
}

// listStarred serves GET /users/{user}/starred: the repositories the user
// starred that the caller may see.
func (a *socialAPI) listStarred(c *gin.Context) {
	limit, offset := page(c)
	repos, err := a.social.Starred(c.Request.Context(), identity(c), c.Param("user"), limit, offset)
	if err != nil {
		a.error(c, err)
		return
	}
	out := make([]repoJSON, 0, len(repos))
	for i := range repos {
		out = append(out, toRepoJSON(&hub.Repository{Repository: repos[i]}))
	}
	c.JSON(http.StatusOK, out)
}

type commentJSON struct {
	ID        int64         `json:"id"`
	User      string        `json:"user"`
	Body      string        `json:"body"`
	BodyHTML  template.HTML `json:"body_html"`
	CreatedAt time.Time     `json:"created_at"`
	UpdatedAt time.Time     `json:"updated_at"`
	CanEdit   bool          `json:"can_edit"`
	CanDelete bool          `json:"can_delete"`
}

func toCommentJSON(x *hub.Comment) commentJSON {
	return commentJSON{ID: x.ID, User: x.User, Body: x.Body, BodyHTML: x.BodyHTML,
		CreatedAt: x.CreatedAt, UpdatedAt: x.UpdatedAt, CanEdit: x.CanEdit, CanDelete: x.CanDelete}
}

type commentBody struct {
	Body string `json:"body"`
}

// listComments lists a page of comments, the oldest first, with the total
// in X-Total-Count.
func (a *socialAPI) listComments(c *gin.Context) {
	limit, offset := page(c)
	cs, total, err := a.social.Comments(c.Request.Context(), identity(c), c.Param("repo"), limit, offset)
	if err != nil {
		a.error(c, err)
		return
	}
	out := make([]commentJSON, 0, len(cs))
	for i := range cs {
		out = append(out, toCommentJSON(&cs[i]))
	}
	c.Header("X-Total-Count", strconv.Itoa(total))
	c.JSON(http.StatusOK, out)
}

func (a *socialAPI) createComment(c *gin.Context, body *commentBody) {
	name := c.Param("repo")
	x, err := a.social.AddComment(c.Request.Context(), identity(c), name, body.Body)
	if err != nil {
		a.error(c, err)
		return
	}
	c.Header("Location", fmt.Sprintf("/api/v1/repositories/%s/comments/%d", name, x.ID))
	c.JSON(http.StatusCreated, toCommentJSON(x))
}

// pathID parses the id a route's path names (param); anything else is
// an object that does not exist, answered here.
func pathID(c *gin.Context, param string) (int64, bool) {
	id, err := strconv.ParseInt(c.Param(param), 10, 64)
	if err != nil || id <= 0 {
		fail(c, apierr.NotFound, "not found")
		return 0, false
	}
	return id, true
}

// commentID parses a comment id.
func commentID(c *gin.Context) (int64, bool) { return pathID(c, "comment") }

func (a *socialAPI) getComment(c *gin.Context) {
	cid, ok := commentID(c)
	if !ok {
		return
	}
	x, err := a.social.Comment(c.Request.Context(), identity(c), c.Param("repo"), cid)
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, toCommentJSON(x))
}

func (a *socialAPI) editComment(c *gin.Context, body *commentBody) {
	cid, ok := commentID(c)
	if !ok {
		return
	}
	x, err := a.social.EditComment(c.Request.Context(), identity(c), c.Param("repo"), cid, body.Body)
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, toCommentJSON(x))
}

func (a *socialAPI) deleteComment(c *gin.Context) {
	cid, ok := commentID(c)
	if !ok {
		return
	}
	if err := a.social.DeleteComment(c.Request.Context(), identity(c), c.Param("repo"), cid); err != nil {
		a.error(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

type previewBody struct {
	Text string `json:"text"`
	// Kind is "comment" (the default) or "readme".
	Kind string `json:"kind"`
}

// preview renders Markdown as a comment or the README would show once
// saved, saving nothing.
func (a *socialAPI) preview(c *gin.Context, body *previewBody) {
	kind := body.Kind
	if kind == "" {
		kind = hub.PreviewComment
	}
	html, err := a.social.Preview(c.Request.Context(), identity(c), c.Param("repo"), kind, body.Text)
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"html": string(html)})
}
