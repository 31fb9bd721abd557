package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/hub"
	"github.com/wharfhub/wharf/server/repopath"
)

// repoPaths reads and builds /r/ paths: the words are the resources
// under a repository.
var repoPaths = repopath.New("tags", "digests", "comments", "stargazers", "settings",
	"star", "unstar", "collaborators", "delete", "webhooks", "signing-keys", "policy", "immutable-tags", "audit", "retention", "watch", "unwatch")

// splitRepo splits "/ns/name[/more][/-]/word/..." into the name and the rest.
func splitRepo(p string) (string, []string) { return repoPaths.Split(p) }

// repoURL is the page of a repository, or of a resource under it.
func repoURL(name string, rest ...string) string { return repoPaths.Path("/r", name, rest...) }

// How many tags and comments a page of their tab lists.
const (
	tagsPerPage     = 50
	commentsPerPage = 20
)

type repoData struct {
	Repo      *hub.Repository
	Readme    template.HTML // on the overview
	Tab       string
	CanManage bool
	CanWrite  bool
	Starred   bool
	// Watching: the caller is mailed each tag pushed (with mail set up).
	Watching   bool
	LatestTag  *hub.Tag // the newest push
	PullTag    *hub.Tag // what the pull command names
	Tags       []hub.Tag
	TagFilter  string
	TagSort    string
	TagShow    string // hub.ShowAll, ShowImages or ShowArtifacts
	TagsBack   string // this page of the tags tab, for a deletion to return to
	TagCount   int64
	Comments   []hub.Comment
	Stargazers []string
	Collabs    []models.CollaboratorName
	Hooks      []models.Webhook
	Keys       []models.SigningKey
	Rules      []models.ImmutableRule
	Policy     *hub.PolicyView
	Hook       *models.Webhook
	Deliveries []models.Delivery
	Pager      pager
	Total      int
	Levels     []string
	// The limits that the forms state.
	MaxReadme, MaxComment int
	// Form is the settings form that was refused, if any.
	Form formState
}

func (w *repoPages) repoRoute(c *gin.Context) {
	name, rest := splitRepo(c.Param("path"))
	if name == "" {
		w.renderError(c, http.StatusNotFound, "There is nothing here, or it is private.")
		return
	}
	get := c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead
	post := c.Request.Method == http.MethodPost
	switch {
	case get && len(rest) == 0:
		w.repoPage(c, name, "overview")
	case post && len(rest) == 2 && rest[0] == "tags" && rest[1] == "delete":
		w.manifests.deleteTags(c, name)
	case get && len(rest) == 2 && (rest[0] == "tags" || rest[0] == "digests"):
		w.manifests.show(c, name, rest[0], rest[1])
	case get && len(rest) == 1 && (rest[0] == "tags" || rest[0] == "comments" || rest[0] == "stargazers" || rest[0] == "settings"):
		w.repoPage(c, name, rest[0])
	case get && len(rest) == 1 && rest[0] == "audit":
		w.audit.repositoryLog(c, name)
	case rest0(rest) == "retention":
		w.retention.repositoryPolicy(c, name, rest[1:])
	case post && len(rest) == 1 && rest[0] == "star":
		w.star(c, name, true)
	case post && len(rest) == 1 && (rest[0] == "watch" || rest[0] == "unwatch"):
		w.watch(c, name, rest[0] == "watch")
	case post && len(rest) == 1 && rest[0] == "unstar":
		w.star(c, name, false)
	case post && len(rest) == 1 && rest[0] == "comments":
		w.addComment(c, name)
	case post && len(rest) == 3 && rest[0] == "comments" && rest[2] == "delete":
		w.deleteComment(c, name, rest[1])
	case post && len(rest) == 3 && rest[0] == "comments" && rest[2] == "edit":
		w.editComment(c, name, rest[1])
	case post && len(rest) == 1 && rest[0] == "settings":
		w.saveRepoSettings(c, name)
	case post && len(rest) == 1 && rest[0] == "collaborators":
		w.setCollaborator(c, name)
	case post && len(rest) == 3 && rest[0] == "collaborators" && rest[2] == "remove":
		w.removeCollaborator(c, name, rest[1])
	case post && len(rest) == 1 && rest[0] == "delete":
		w.deleteRepo(c, name)
	case rest0(rest) == "webhooks":
		w.webhooks.webhookRoute(c, name, rest)
	case post && (rest0(rest) == "signing-keys" || rest0(rest) == "policy" || rest0(rest) == "immutable-tags"):
		w.trust.repoTrust(c, name, rest)
	default:
		w.renderError(c, http.StatusNotFound, "There is nothing here, or it is private.")
	}
}

func (w *repoPages) repoPage(c *gin.Context, name, tab string) {
	w.showRepo(c, name, tab, http.StatusOK, formState{})
}

// refused shows the settings again, with form's error next to it and
// what was typed kept.
func (w *repoPages) refused(c *gin.Context, name, form, msg string) {
	w.showRepo(c, name, "settings", http.StatusBadRequest, formState{Form: form, Err: msg, Sent: c.Request.PostForm})
}

// preview shows tab again with form as it was sent, and its Markdown
// text as it would show once saved above it; nothing is saved.
func (w *repoPages) preview(c *gin.Context, name, tab, form, kind, text string) {
	html, err := w.social.Preview(c.Request.Context(), pc(c).User, name, kind, text)
	state := formState{Form: form, Sent: c.Request.PostForm, Preview: html}
	status := http.StatusOK
	if err != nil {
		var inv *hub.Invalid
		if !asInvalid(err, &inv) {
			w.fail(c, err)
			return
		}
		state.Err, status = inv.Msg, http.StatusBadRequest
	}
	w.showRepo(c, name, tab, status, state)
}

// showRepo renders a tab of a repository's page.
func (w *repoPages) showRepo(c *gin.Context, name, tab string, status int, form formState) {
	ctx := c.Request.Context()
	id := pc(c).User
	r, err := w.repos.Get(ctx, id, name)
	if err != nil {
		w.fail(c, err)
		return
	}
	d := repoData{Repo: r, Tab: tab, CanManage: r.Level >= auth.LevelAdmin, CanWrite: r.Level >= auth.LevelWrite,
		MaxReadme: hub.MaxReadme, MaxComment: hub.MaxComment, Form: form}
	if id != nil {
		d.Starred, _ = w.social.IsStarred(ctx, id, name)
		d.Watching, _ = w.social.Watching(ctx, id, name)
	}
	if latest, err := w.repos.Tags(ctx, id, name, 1, 0); err == nil && len(latest) > 0 {
		d.LatestTag = &latest[0]
	}
	if d.LatestTag != nil {
		if d.PullTag, err = w.repos.PullTag(ctx, id, name); err != nil {
			w.fail(c, err)
			return
		}
	}
	if d.Policy, err = w.trustView.Policy(ctx, id, hub.Target{Repository: name}); err != nil {
		w.fail(c, err)
		return
	}
	page := pageNum(c)
	switch tab {
	case "overview":
		if d.Readme, err = w.repos.ReadmeHTML(ctx, r); err != nil {
			w.fail(c, err)
			return
		}
	case "tags":
		d.TagFilter, d.TagSort = strings.TrimSpace(c.Query("q")), c.DefaultQuery("sort", models.TagsByPushed)
		d.TagShow = c.Query("show")
		d.TagsBack = c.Request.URL.RequestURI()
		kinds, err := hub.TagKinds(d.TagShow)
		if err != nil {
			w.fail(c, err)
			return
		}
		tags, total, err := w.repos.TagPage(ctx, id, name, hub.TagQuery{Filter: d.TagFilter, Sort: d.TagSort,
			Kinds: kinds, Limit: tagsPerPage, Offset: (page - 1) * tagsPerPage})
		if err != nil {
			w.fail(c, err)
			return
		}
		d.Tags, d.TagCount = tags, total
		q := url.Values{"sort": {d.TagSort}}
		if d.TagFilter != "" {
			q.Set("q", d.TagFilter)
		}
		if d.TagShow != "" {
			q.Set("show", d.TagShow)
		}
		d.Pager = newPager(repoURL(name, "tags")+"?"+q.Encode(), page, total, tagsPerPage)
	case "comments":
		comments, total, err := w.social.Comments(ctx, id, name, commentsPerPage, (page-1)*commentsPerPage)
		if err != nil {
			w.fail(c, err)
			return
		}
		d.Comments, d.Total = comments, total
		d.Pager = newPager(repoURL(name, "comments"), page, int64(total), commentsPerPage)
	case "stargazers":
		users, err := w.social.Stargazers(ctx, id, name, 100, (page-1)*100)
		if err != nil {
			w.fail(c, err)
			return
		}
		d.Stargazers = users
	case "settings":
		if !d.CanManage {
			if id == nil {
				w.fail(c, auth.ErrUnauthenticated)
				return
			}
			w.fail(c, auth.ErrDenied)
			return
		}
		collabs, err := w.repos.Collaborators(ctx, id, name)
		if err != nil {
			w.fail(c, err)
			return
		}
		d.Collabs = collabs
		d.Levels = []string{"read", "write", "admin"}
		if d.Hooks, err = w.hooks.List(ctx, id, hub.Target{Repository: name}); err != nil {
			w.fail(c, err)
			return
		}
		if d.Keys, err = w.trustView.Keys(ctx, id, hub.Target{Repository: name}); err != nil {
			w.fail(c, err)
			return
		}
		if d.Rules, err = w.trust.immutability.Rules(ctx, id, hub.Target{Repository: name}); err != nil {
			w.fail(c, err)
			return
		}
	}
	w.render(c, status, "repo.html", name, d)
}

func (w *repoPages) star(c *gin.Context, name string, on bool) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	var err error
	if on {
		err = w.social.Star(c.Request.Context(), id, name)
	} else {
		err = w.social.Unstar(c.Request.Context(), id, name)
	}
	if err != nil {
		w.fail(c, err)
		return
	}
	redirectTo(c, repoURL(name))
}

func (w *repoPages) watch(c *gin.Context, name string, on bool) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	if err := w.social.Watch(c.Request.Context(), id, name, on); err != nil {
		w.fail(c, err)
		return
	}
	if on {
		w.addFlash(c, "ok", "You watch "+name+": each tag pushed to it is mailed to your verified address.")
	}
	redirectTo(c, repoURL(name))
}

func (w *repoPages) addComment(c *gin.Context, name string) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	body := c.PostForm("body")
	if c.PostForm("preview") != "" {
		w.preview(c, name, "comments", "comment", hub.PreviewComment, body)
		return
	}
	cm, err := w.social.AddComment(c.Request.Context(), id, name, body)
	if err != nil {
		var inv *hub.Invalid
		if asInvalid(err, &inv) {
			// Shown again with the comment as typed, and the error next to it.
			w.showRepo(c, name, "comments", http.StatusBadRequest, formState{Form: "comment", Err: inv.Msg, Sent: c.Request.PostForm})
			return
		}
		w.fail(c, err)
		return
	}
	// The new comment is the last: go to the page that shows it.
	_, total, err := w.social.Comments(c.Request.Context(), id, name, 1, 0)
	if err != nil {
		w.fail(c, err)
		return
	}
	last := (total + commentsPerPage - 1) / commentsPerPage
	redirectTo(c, fmt.Sprintf("%s?page=%d#c%d", repoURL(name, "comments"), max(last, 1), cm.ID))
}

func (w *repoPages) deleteComment(c *gin.Context, name, idStr string) {
	w.commentAction(c, name, idStr, "Comment deleted.", func(id *auth.Identity, cid int64) error {
		return w.social.DeleteComment(c.Request.Context(), id, name, cid)
	})
}

func (w *repoPages) editComment(c *gin.Context, name, idStr string) {
	w.commentAction(c, name, idStr, "", func(id *auth.Identity, cid int64) error {
		_, err := w.social.EditComment(c.Request.Context(), id, name, cid, c.PostForm("body"))
		return err
	})
}

// commentAction runs an action on one comment for the signed-in user and
// goes back to the comments, with ok (if any) or the input error flashed.
func (w *repoPages) commentAction(c *gin.Context, name, idStr, ok string, do func(id *auth.Identity, cid int64) error) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	cid, err := strconv.ParseInt(idStr, 10, 64)
	if err != nil {
		w.fail(c, hub.ErrNotFound)
		return
	}
	if err := do(id, cid); err != nil {
		var inv *hub.Invalid
		if asInvalid(err, &inv) {
			w.addFlash(c, "error", inv.Msg)
			redirectTo(c, repoURL(name, "comments"))
			return
		}
		w.fail(c, err)
		return
	}
	if ok != "" {
		w.addFlash(c, "ok", ok)
	}
	redirectTo(c, repoURL(name, "comments"))
}

func (w *repoPages) saveRepoSettings(c *gin.Context, name string) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	if c.PostForm("preview") != "" {
		w.preview(c, name, "settings", "general", hub.PreviewReadme, c.PostForm("readme"))
		return
	}
	var p hub.RepositoryPatch
	if v, ok := c.GetPostForm("description"); ok {
		v = strings.TrimSpace(v)
		p.Description = &v
	}
	if v, ok := c.GetPostForm("readme"); ok {
		p.Readme = &v
	}
	if v, ok := c.GetPostForm("visibility"); ok {
		p.Visibility = &v
	}
	if _, err := w.repos.Update(c.Request.Context(), id, name, p); err != nil {
		var inv *hub.Invalid
		if asInvalid(err, &inv) {
			w.refused(c, name, "general", inv.Msg)
			return
		}
		w.fail(c, err)
		return
	}
	w.addFlash(c, "ok", "Settings saved.")
	redirectTo(c, repoURL(name, "settings"))
}

func (w *repoPages) setCollaborator(c *gin.Context, name string) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	user := strings.TrimSpace(c.PostForm("user"))
	if err := w.repos.SetCollaborator(c.Request.Context(), id, name, user, c.PostForm("permission")); err != nil {
		var inv *hub.Invalid
		if asInvalid(err, &inv) {
			w.refused(c, name, "collaborators", inv.Msg)
			return
		}
		w.fail(c, err)
		return
	}
	w.addFlash(c, "ok", user+" is now a collaborator ("+c.PostForm("permission")+").")
	redirectTo(c, repoURL(name, "settings")+"#collaborators")
}

func (w *repoPages) removeCollaborator(c *gin.Context, name, user string) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	if err := w.repos.RemoveCollaborator(c.Request.Context(), id, name, user); err != nil {
		w.fail(c, err)
		return
	}
	w.addFlash(c, "ok", user+" is no longer a collaborator.")
	redirectTo(c, repoURL(name, "settings")+"#collaborators")
}

// deleteRepo deletes a repository once its full name is typed to confirm.
func (w *repoPages) deleteRepo(c *gin.Context, name string) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	if strings.TrimSpace(c.PostForm("confirm")) != name {
		w.refused(c, name, "danger", "Type the repository's full name, "+name+", to confirm the deletion.")
		return
	}
	if err := w.repos.Delete(c.Request.Context(), id, name); err != nil {
		w.fail(c, err)
		return
	}
	w.addFlash(c, "ok", "Repository "+name+" deleted.")
	redirectTo(c, "/u/"+models.NamespaceOf(name))
}
