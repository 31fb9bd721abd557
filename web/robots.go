package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/hub"
)

// robotPages are a namespace's robot accounts, on its page for its
// owners: POST /u/{ns}/robots makes one (its secret shown once, on the
// page it leads back to), POST /u/{ns}/robots/{id} replaces its
// permissions, POST /u/{ns}/robots/{id}/delete removes one.
type robotPages struct {
	*renderer
	robots *hub.Robots
}

// newRobotCookie carries a new robot's secret to the one page that
// shows it, for two minutes, encrypted like the session.
const newRobotCookie = "wharf_newrobot"

// parsePermissions reads the form's permissions: one per line,
// "REPOSITORY PERMISSION" (app write, alice/tools read).
func parsePermissions(text string) (map[string]string, error) {
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		switch len(f) {
		case 0:
			continue
		case 2:
			out[f[0]] = f[1]
		default:
			return nil, &hub.Invalid{Msg: "Write one permission a line: a repository, then read, write or admin (such as “app write”)."}
		}
	}
	return out, nil
}

func (w *robotPages) create(c *gin.Context) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	ns := c.Param("name")
	var expires *time.Time
	if days, err := strconv.Atoi(c.PostForm("expires_days")); err == nil && days > 0 {
		t := time.Now().Add(time.Duration(days) * 24 * time.Hour).UTC()
		expires = &t
	}
	var r *hub.NewRobot
	perms, err := parsePermissions(c.PostForm("permissions"))
	if err == nil {
		r, err = w.robots.Create(c.Request.Context(), id, ns, hub.RobotInput{Name: c.PostForm("name"),
			Description: c.PostForm("description"), Permissions: perms, ExpiresAt: expires})
	}
	ok := ""
	if err == nil {
		sess, _ := w.sessions.cookies.New(c.Request, newRobotCookie)
		sess.Values["n"], sess.Values["t"] = r.FullName(), r.Secret
		sess.Options.MaxAge = 120
		sess.Options.Path = "/u/" + ns
		_ = sess.Save(c.Request, c.Writer)
		ok = "Robot " + r.FullName() + " created. Copy its secret now: it will not be shown again."
	}
	w.formResult(c, "/u/"+ns+"#robots", err, ok)
}

func (w *robotPages) setPermissions(c *gin.Context) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	ns := c.Param("name")
	n, found := w.objectID(c, c.Param("id"))
	if !found {
		return
	}
	var r *models.Robot
	perms, err := parsePermissions(c.PostForm("permissions"))
	if err == nil {
		r, err = w.robots.SetPermissions(c.Request.Context(), id, ns, n, perms)
	}
	ok := ""
	if err == nil {
		ok = "Permissions of " + r.FullName() + " saved."
	}
	w.formResult(c, "/u/"+ns+"#robots", err, ok)
}

func (w *robotPages) remove(c *gin.Context) {
	id := w.requireUser(c)
	if id == nil {
		return
	}
	ns := c.Param("name")
	n, ok := w.objectID(c, c.Param("id"))
	if !ok {
		return
	}
	if err := w.robots.Delete(c.Request.Context(), id, ns, n); err != nil {
		w.fail(c, err)
		return
	}
	w.addFlash(c, "ok", "Robot removed: its secret no longer works.")
	redirectTo(c, "/u/"+ns+"#robots")
}

// newRobot takes the secret a creation left for the namespace page, once.
func (w *robotPages) newRobot(c *gin.Context, ns string) *newRobotView {
	sess, err := w.sessions.cookies.Get(c.Request, newRobotCookie)
	if err != nil {
		return nil
	}
	name, _ := sess.Values["n"].(string)
	secret, _ := sess.Values["t"].(string)
	if secret == "" || models.NamespaceOf(strings.Replace(name, "+", "/", 1)) != ns {
		return nil
	}
	sess.Options.MaxAge = -1
	sess.Options.Path = "/u/" + ns
	_ = sess.Save(c.Request, c.Writer)
	c.Header("Cache-Control", "no-store")
	return &newRobotView{Name: name, Secret: secret}
}

// newRobotView is a robot just made, with its secret.
type newRobotView struct{ Name, Secret string }
