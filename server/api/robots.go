package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/hub"
)

// Robot accounts of a namespace: /namespaces/{ns}/robots[/{robot}].

type robotPermissionJSON struct {
	Repository string `json:"repository"`
	Permission string `json:"permission"`
}

type robotJSON struct {
	ID          int64                 `json:"id"`
	Name        string                `json:"name"` // NAMESPACE+NAME, the docker login username
	Description string                `json:"description"`
	Permissions []robotPermissionJSON `json:"permissions"`
	ExpiresAt   *time.Time            `json:"expires_at"`
	LastUsedAt  *time.Time            `json:"last_used_at"`
	CreatedBy   string                `json:"created_by,omitempty"`
	CreatedAt   time.Time             `json:"created_at"`
	// Secret is in the answer that creates the robot, and never again.
	Secret string `json:"secret,omitempty"`
}

func toRobotJSON(r *models.Robot) robotJSON {
	out := robotJSON{ID: r.ID, Name: r.FullName(), Description: r.Description, Permissions: []robotPermissionJSON{},
		ExpiresAt: r.ExpiresAt, LastUsedAt: r.LastUsedAt, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt}
	for _, p := range r.Permissions {
		out.Permissions = append(out.Permissions, robotPermissionJSON{Repository: p.Repository, Permission: p.Level})
	}
	return out
}

type robotBody struct {
	Name        string                `json:"name"`
	Description string                `json:"description"`
	Permissions []robotPermissionJSON `json:"permissions"`
	ExpiresAt   *time.Time            `json:"expires_at"`
}

type robotPermissionsBody struct {
	Permissions []robotPermissionJSON `json:"permissions"`
}

func permissionMap(ps []robotPermissionJSON) map[string]string {
	m := make(map[string]string, len(ps))
	for _, p := range ps {
		m[p.Repository] = p.Permission
	}
	return m
}

func (a *robotsAPI) listRobots(c *gin.Context) {
	rs, err := a.robots.List(c.Request.Context(), identity(c), c.Param("ns"))
	if err != nil {
		a.error(c, err)
		return
	}
	out := make([]robotJSON, 0, len(rs))
	for i := range rs {
		out = append(out, toRobotJSON(&rs[i]))
	}
	c.JSON(http.StatusOK, out)
}

func (a *robotsAPI) createRobot(c *gin.Context, body *robotBody) {
	r, err := a.robots.Create(c.Request.Context(), identity(c), c.Param("ns"), robotInput(body))
	if err != nil {
		a.error(c, err)
		return
	}
	out := toRobotJSON(&r.Robot)
	out.Secret = r.Secret
	c.JSON(http.StatusCreated, out)
}

func (a *robotsAPI) setRobotPermissions(c *gin.Context, body *robotPermissionsBody) {
	n, ok := pathID(c, "robot")
	if !ok {
		return
	}
	r, err := a.robots.SetPermissions(c.Request.Context(), identity(c), c.Param("ns"), n, permissionMap(body.Permissions))
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, toRobotJSON(r))
}

func (a *robotsAPI) deleteRobot(c *gin.Context) {
	n, ok := pathID(c, "robot")
	if !ok {
		return
	}
	if err := a.robots.Delete(c.Request.Context(), identity(c), c.Param("ns"), n); err != nil {
		a.error(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func robotInput(b *robotBody) hub.RobotInput {
	return hub.RobotInput{Name: b.Name, Description: b.Description, Permissions: permissionMap(b.Permissions), ExpiresAt: b.ExpiresAt}
}
