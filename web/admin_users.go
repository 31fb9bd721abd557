package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/textcheck"
)

// adminUsers are the site administrators' accounts page, /admin/users:
// a search, a page of accounts, and on each a disable or enable, a make
// or unmake admin, a reset link, and a deletion (typed to confirm).
type adminUsers struct {
	*adminPages
	accounts *auth.Accounts
	users    *models.UserStore
	recovery *auth.Recovery
}

const usersPerPage = 25

// userSearch is what a search of the accounts may be.
var userSearch = textcheck.Kind{Name: "search text", Max: 200}

// refusal is an action refused with a message for the admin.
type refusal struct{ msg string }

func (r *refusal) Error() string { return r.msg }

type usersView struct {
	Q          string
	Users      []models.User
	Total      int64
	Page       int
	Prev, Next string
	// Link is a reset link just issued (shown once), for LinkUser.
	Link, LinkUser string
	Error          string
	Self           int64
	CSRF           string
}

// list serves GET /admin/users.
func (w *adminUsers) list(c *gin.Context) {
	if w.requireAdmin(c) {
		w.show(c, http.StatusOK, usersView{})
	}
}

func (w *adminUsers) show(c *gin.Context, status int, v usersView) {
	v.Q = strings.TrimSpace(c.Query("q"))
	v.Page = 1
	if p, err := strconv.Atoi(c.Query("page")); err == nil && p > 1 && p < 100000 {
		v.Page = p
	}
	if !userSearch.Valid(v.Q) {
		v.Error, v.Q, status = "Search for a name or an address of up to 200 characters, without control characters.", "", http.StatusBadRequest
	}
	us, total, err := w.users.List(c.Request.Context(), v.Q, (v.Page-1)*usersPerPage, usersPerPage)
	if err != nil {
		w.fail(c, err)
		return
	}
	v.Users, v.Total, v.Self, v.CSRF = us, total, pc(c).User.UserID, pc(c).CSRF
	v.Prev, v.Next = pageLinks("/admin/users", v.Q, v.Page, usersPerPage, total)
	w.render(c, status, "admin_users.html", "Users", v)
}

// act serves POST /admin/users/:name/:action.
func (w *adminUsers) act(c *gin.Context) {
	if !w.requireAdmin(c) {
		return
	}
	ctx := c.Request.Context()
	u, err := w.accounts.UserByName(ctx, c.Param("name"))
	if err != nil {
		w.fail(c, err)
		return
	}
	ok := ""
	switch c.Param("action") {
	case "disable", "enable":
		disable := c.Param("action") == "disable"
		if disable && u.ID == pc(c).User.UserID {
			err = &refusal{"You cannot disable your own account here."}
		} else if err = w.accounts.SetDisabled(ctx, u.ID, disable); err == nil {
			ok = u.Username + " is " + map[bool]string{true: "disabled: it cannot sign in or use its tokens.", false: "enabled again."}[disable]
		}
	case "admin", "unadmin":
		admin := c.Param("action") == "admin"
		if err = w.accounts.SetAdmin(ctx, u.ID, admin); err == nil {
			ok = u.Username + map[bool]string{true: " is a site administrator now.", false: " is no site administrator any more."}[admin]
		}
	case "reset-link":
		link, lerr := w.recovery.IssueLink(ctx, u.Username, pc(c).User.Username)
		if lerr == nil {
			c.Header("Cache-Control", "no-store")
			w.show(c, http.StatusOK, usersView{Link: link.URL, LinkUser: link.User})
			return
		}
		err = lerr
	case "delete":
		if c.PostForm("confirm") != u.Username {
			err = &refusal{"To delete " + u.Username + ", type its name in the box."}
		} else if err = w.accounts.DeleteUser(ctx, u.ID); err == nil {
			ok = u.Username + " is deleted, with its repositories."
		}
	default:
		w.renderError(c, http.StatusNotFound, "There is no such page.")
		return
	}
	if err != nil {
		var sole *models.SoleOwnerError
		var refused *refusal
		switch {
		case errors.As(err, &sole):
			w.show(c, http.StatusConflict, usersView{Error: "Nothing was deleted: " + sole.Error() + "."})
		case errors.Is(err, models.ErrLastAdmin), errors.Is(err, auth.ErrAccountDisabled):
			w.show(c, http.StatusConflict, usersView{Error: err.Error()})
		case errors.As(err, &refused):
			w.show(c, http.StatusBadRequest, usersView{Error: refused.msg})
		default:
			w.fail(c, err)
		}
		return
	}
	w.addFlash(c, "ok", ok)
	redirectTo(c, "/admin/users"+keepQuery(c))
}

// keepQuery is the list's search and page, as the form was sent from.
func keepQuery(c *gin.Context) string {
	if r := c.Request.URL.RawQuery; r != "" {
		return "?" + r
	}
	return ""
}

// pageLinks are the links to the pages before and after page (of per
// items, of total) of a listing at path searched for q ("" where none).
func pageLinks(path, q string, page, per int, total int64) (prev, next string) {
	link := func(p int) string {
		v := url.Values{"page": {strconv.Itoa(p)}}
		if q != "" {
			v.Set("q", q)
		}
		return path + "?" + v.Encode()
	}
	if page > 1 {
		prev = link(page - 1)
	}
	if int64(page*per) < total {
		next = link(page + 1)
	}
	return prev, next
}
