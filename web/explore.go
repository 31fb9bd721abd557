package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/hub"
)

type homeData struct {
	Popular []models.Repository
	Recent  []models.Repository
	Mine    []models.Repository
	// MineTotal counts what Mine shows the first of: the caller's own,
	// their organizations' and those shared with them.
	MineTotal int64
	Starred   []models.Repository
}

func (w *explorePages) home(c *gin.Context) {
	ctx := c.Request.Context()
	id := pc(c).User
	var d homeData
	var err error
	if d.Popular, _, err = w.discover.Repositories(ctx, id, hub.ListFilter{Order: "stars", Limit: 8}); err != nil {
		w.fail(c, err)
		return
	}
	if d.Recent, _, err = w.discover.Repositories(ctx, id, hub.ListFilter{Order: "updated", Limit: 8}); err != nil {
		w.fail(c, err)
		return
	}
	if id != nil {
		if d.Mine, d.MineTotal, err = w.discover.Repositories(ctx, id, hub.ListFilter{Mine: true, Order: "updated", Limit: 8}); err != nil {
			w.fail(c, err)
			return
		}
		if d.Starred, err = w.social.Starred(ctx, id, id.Username, 8, 0); err != nil {
			w.fail(c, err)
			return
		}
	}
	w.render(c, http.StatusOK, "home.html", "Wharf", d)
}

// pageNum reads ?page= (1-based).
func pageNum(c *gin.Context) int {
	p, err := strconv.Atoi(c.Query("page"))
	if err != nil || p < 1 || p > 100000 {
		return 1
	}
	return p
}

type pager struct {
	Page, Pages int
	Base        string // URL without page, ending in ? or &
}

func newPager(base string, page int, total int64, per int) pager {
	pages := int((total + int64(per) - 1) / int64(per))
	if pages < 1 {
		pages = 1
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return pager{Page: page, Pages: pages, Base: base + sep}
}

type listData struct {
	Heading string
	Base    string // the list's URL, ending in ? or &, for its sort links
	Repos   []models.Repository
	Total   int64
	Sort    string
	Pager   pager
}

const perPage = 24

func (w *explorePages) explore(c *gin.Context) {
	sort := c.Query("sort")
	if _, ok := models.RepoOrder[sort]; !ok {
		sort = "stars"
	}
	// ?mine=1: the signed-in user's repositories, their organizations'
	// and those shared with them.
	mine := c.Query("mine") == "1"
	if mine && w.requireUser(c) == nil {
		return
	}
	page := pageNum(c)
	repos, total, err := w.discover.Repositories(c.Request.Context(), pc(c).User, hub.ListFilter{Mine: mine, Order: sort, Limit: perPage, Offset: (page - 1) * perPage})
	if err != nil {
		w.fail(c, err)
		return
	}
	heading, base := "Explore repositories", "/explore?"
	if mine {
		heading, base = "Your repositories", "/explore?mine=1&"
	}
	w.render(c, http.StatusOK, "explore.html", heading, listData{
		Heading: heading, Repos: repos, Total: total, Sort: sort, Base: base,
		Pager: newPager(base+"sort="+sort, page, total, perPage),
	})
}

type namespaceData struct {
	NS     *hub.Namespace
	Hooks  []models.Webhook
	Keys   []models.SigningKey
	Rules  []models.ImmutableRule
	Policy *hub.PolicyView
	Robots []models.Robot
	Teams  []models.Team
	// NewRobot is a robot just made, whose secret is shown once.
	NewRobot *newRobotView
	Usage    *models.Usage
	Repos    []models.Repository
	Total    int64
	Pager    pager
}

func (w *explorePages) namespacePage(c *gin.Context) {
	ctx := c.Request.Context()
	ns, err := w.namespaces.Get(ctx, pc(c).User, c.Param("name"))
	if err != nil {
		w.fail(c, err)
		return
	}
	page := pageNum(c)
	repos, total, err := w.discover.Repositories(ctx, pc(c).User, hub.ListFilter{Namespace: ns.Name, Order: "updated", Limit: perPage, Offset: (page - 1) * perPage})
	if err != nil {
		w.fail(c, err)
		return
	}
	d := namespaceData{NS: ns, Repos: repos, Total: total, Pager: newPager("/u/"+ns.Name, page, total, perPage)}
	if pc(c).User != nil {
		d.Usage, _ = w.namespaces.Usage(ctx, pc(c).User, ns.Name) // only members get one
	}
	if ns.IsOwner && pc(c).User != nil {
		t := hub.Target{Namespace: ns.Name}
		if d.Hooks, err = w.hooks.List(ctx, pc(c).User, t); err != nil {
			w.fail(c, err)
			return
		}
		if d.Keys, err = w.trust.Keys(ctx, pc(c).User, t); err != nil {
			w.fail(c, err)
			return
		}
		if d.Rules, err = w.immutability.Rules(ctx, pc(c).User, t); err != nil {
			w.fail(c, err)
			return
		}
		if ns.Org != nil {
			if d.Teams, err = w.teams.List(ctx, pc(c).User, ns.Name); err != nil {
				w.fail(c, err)
				return
			}
		}
		if ns.Kind != models.NamespaceMirror {
			if d.Robots, err = w.robots.robots.List(ctx, pc(c).User, ns.Name); err != nil {
				w.fail(c, err)
				return
			}
			d.NewRobot = w.robots.newRobot(c, ns.Name)
		}
		if d.Policy, err = w.trust.Policy(ctx, pc(c).User, t); err != nil {
			w.fail(c, err)
			return
		}
	}
	w.render(c, http.StatusOK, "namespace.html", ns.Name, d)
}

func (w *explorePages) starredPage(c *gin.Context) {
	ctx := c.Request.Context()
	name := c.Param("name")
	if _, err := w.users.GetByName(ctx, name); err != nil {
		w.fail(c, err)
		return
	}
	page := pageNum(c)
	repos, err := w.social.Starred(ctx, pc(c).User, name, perPage+1, (page-1)*perPage)
	if err != nil {
		w.fail(c, err)
		return
	}
	total := int64((page-1)*perPage + len(repos))
	if len(repos) > perPage {
		repos = repos[:perPage]
	}
	w.render(c, http.StatusOK, "list.html", name+"'s stars", listData{
		Heading: "Starred by " + name, Repos: repos, Total: total, Pager: newPager("/u/"+name+"/starred", page, total, perPage),
	})
}

type newRepoData struct {
	Namespaces []string
	Namespace  string
	Name       string
	Visibility string
	Desc       string
	Error      string
}

func (w *explorePages) newRepoForm(c *gin.Context) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	d := newRepoData{Namespace: id.Username, Visibility: "private"}
	d.Namespaces = w.writableNamespaces(c, id.Username, id.UserID)
	w.render(c, http.StatusOK, "new.html", "New repository", d)
}

func (w *explorePages) writableNamespaces(c *gin.Context, username string, uid int64) []string {
	out := []string{username}
	orgs, _ := w.orgs.OfUser(c.Request.Context(), uid)
	for _, o := range orgs {
		out = append(out, o.Username)
	}
	return out
}

func (w *explorePages) newRepo(c *gin.Context) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	in := hub.CreateRepositoryInput{
		Namespace: c.PostForm("namespace"), Name: strings.TrimSpace(c.PostForm("name")),
		Visibility: c.PostForm("visibility"), Description: strings.TrimSpace(c.PostForm("description")),
	}
	r, err := w.repos.Create(c.Request.Context(), id, in)
	if err != nil {
		d := newRepoData{Namespace: in.Namespace, Name: in.Name, Visibility: in.Visibility, Desc: in.Description,
			Namespaces: w.writableNamespaces(c, id.Username, id.UserID)}
		var inv *hub.Invalid
		switch {
		case asInvalid(err, &inv):
			d.Error = inv.Msg
		case isConflict(err):
			d.Error = "A repository with that name already exists."
		case isDenied(err):
			d.Error = "You cannot create repositories in " + in.Namespace + "."
		default:
			w.fail(c, err)
			return
		}
		w.render(c, http.StatusBadRequest, "new.html", "New repository", d)
		return
	}
	w.addFlash(c, "ok", "Repository "+r.Name+" created. Push to it with docker.")
	redirectTo(c, repoURL(r.Name))
}
