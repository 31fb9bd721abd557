package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/hub"
)

// deleteTagsData is the page that confirms a deletion of tags.
type deleteTagsData struct {
	Repo *hub.Repository
	// What would go: the tags, and the manifests with them.
	Plan *hub.TagDeletion
	// Back is where Cancel (and the deletion, once done) leads.
	Back string
}

// deleteTags deletes the tags a form names (tag=..., many times): first
// it shows what would go, then, confirmed, deletes it.
func (w *manifestPages) deleteTags(c *gin.Context, name string) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	tags := c.PostFormArray("tag")
	list := repoURL(name, "tags")
	// Back is the tags tab as it was (its filter and page), or a tag's page.
	back := c.PostForm("back")
	if !localPath(back) || !strings.HasPrefix(back, list) {
		back = list
	}
	if len(tags) == 0 {
		w.addFlash(c, "error", "Choose the tags to delete first.")
		redirectTo(c, back)
		return
	}
	ctx := c.Request.Context()
	confirmed := c.PostForm("confirm") == "yes"
	d, err := w.repos.DeleteTags(ctx, id, name, tags, !confirmed)
	var immutable *models.ImmutableError
	if errors.As(err, &immutable) {
		w.addFlash(c, "error", "Nothing was deleted: "+immutable.Error()+".")
		redirectTo(c, back)
		return
	}
	if err != nil {
		w.fail(c, err)
		return
	}
	if !confirmed {
		repo, err := w.repos.Get(ctx, id, name)
		if err != nil {
			w.fail(c, err)
			return
		}
		w.render(c, http.StatusOK, "tags_delete.html", "Delete tags of "+name, deleteTagsData{Repo: repo, Plan: d, Back: back})
		return
	}
	w.addFlash(c, "ok", fmt.Sprintf("Deleted %s and %s.", plural(len(d.Tags), "tag"), plural(len(d.Manifests), "manifest")))
	if strings.HasPrefix(back, list+"/") {
		back = list // the tag's own page is gone
	}
	redirectTo(c, back)
}
