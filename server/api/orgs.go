package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/hub"
)

type memberJSON struct {
	User string `json:"user"`
	Role string `json:"role"`
}

type orgJSON struct {
	Name             string       `json:"name"`
	Description      string       `json:"description"`
	MemberPermission string       `json:"member_permission"`
	Members          []memberJSON `json:"members"`
	CreatedAt        time.Time    `json:"created_at"`
}

func toOrgJSON(o *hub.Org) orgJSON {
	j := orgJSON{Name: o.Name, Description: o.Description, MemberPermission: o.MemberPermission,
		CreatedAt: o.CreatedAt, Members: membersJSON(o.Members)}
	return j
}

func membersJSON(ms []models.Member) []memberJSON {
	out := make([]memberJSON, 0, len(ms))
	for _, m := range ms {
		out = append(out, memberJSON{User: m.Username, Role: m.Role})
	}
	return out
}

type newOrgBody struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

func (a *orgsAPI) createOrg(c *gin.Context, body *newOrgBody) {
	o, err := a.orgs.Create(c.Request.Context(), identity(c), body.Name, body.Description)
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusCreated, toOrgJSON(o))
}

func (a *orgsAPI) getOrg(c *gin.Context) {
	o, err := a.orgs.Get(c.Request.Context(), c.Param("org"))
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, toOrgJSON(o))
}

type orgPatchBody struct {
	Description      *string `json:"description"`
	MemberPermission *string `json:"member_permission"`
}

func (a *orgsAPI) patchOrg(c *gin.Context, body *orgPatchBody) {
	o, err := a.orgs.Update(c.Request.Context(), identity(c), c.Param("org"), hub.OrgPatch{Description: body.Description, MemberPermission: body.MemberPermission})
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, toOrgJSON(o))
}

func (a *orgsAPI) listMembers(c *gin.Context) {
	o, err := a.orgs.Get(c.Request.Context(), c.Param("org"))
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, membersJSON(o.Members))
}

type memberBody struct {
	Role string `json:"role"`
}

func (a *orgsAPI) setMember(c *gin.Context, body *memberBody) {
	if err := a.orgs.SetMember(c.Request.Context(), identity(c), c.Param("org"), c.Param("user"), strings.TrimSpace(body.Role)); err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, memberJSON{User: c.Param("user"), Role: body.Role})
}

func (a *orgsAPI) removeMember(c *gin.Context) {
	if err := a.orgs.RemoveMember(c.Request.Context(), identity(c), c.Param("org"), c.Param("user")); err != nil {
		a.error(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// deleteOrg deletes an organization with its repositories; owners only.
func (a *orgsAPI) deleteOrg(c *gin.Context) {
	id := identity(c)
	if err := a.orgs.Delete(c.Request.Context(), id, c.Param("org")); err != nil {
		a.error(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// getUsage serves GET /namespaces/{ns}/usage.
func (a *orgsAPI) getUsage(c *gin.Context) {
	u, err := a.namespaces.Usage(c.Request.Context(), identity(c), c.Param("ns"))
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"bytes": u.Bytes, "blobs": u.Blobs, "repositories": u.Repositories, "quota_bytes": u.QuotaBytes})
}

type quotaBody struct {
	Bytes int64 `json:"bytes"`
}

// setQuota serves PUT /namespaces/{ns}/quota.
func (a *orgsAPI) setQuota(c *gin.Context, body *quotaBody) {
	if err := a.namespaces.SetQuota(c.Request.Context(), identity(c), c.Param("ns"), body.Bytes); err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"quota_bytes": body.Bytes})
}
