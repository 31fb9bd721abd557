package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/hub"
)

// Signing keys and policies, the same under a repository and under a
// namespace: .../signing-keys[/{key}] and .../policy.

type signingKeyJSON struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	PublicKey   string    `json:"public_key"`
	Fingerprint string    `json:"fingerprint"`
	CreatedBy   string    `json:"created_by,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

func toSigningKeyJSON(k *models.SigningKey) signingKeyJSON {
	return signingKeyJSON{ID: k.ID, Name: k.Name, PublicKey: k.PublicKey, Fingerprint: "sha256:" + k.Fingerprint,
		CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt}
}

type signingKeyBody struct {
	Name      string `json:"name"`
	PublicKey string `json:"public_key"`
}

func (a *trustAPI) listKeys(c *gin.Context) {
	ks, err := a.trust.Keys(c.Request.Context(), identity(c), hookTarget(c))
	if err != nil {
		a.error(c, err)
		return
	}
	out := make([]signingKeyJSON, 0, len(ks))
	for i := range ks {
		out = append(out, toSigningKeyJSON(&ks[i]))
	}
	c.JSON(http.StatusOK, out)
}

func (a *trustAPI) createKey(c *gin.Context, body *signingKeyBody) {
	k, err := a.trust.AddKey(c.Request.Context(), identity(c), hookTarget(c), hub.KeyInput{Name: body.Name, PublicKey: body.PublicKey})
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusCreated, toSigningKeyJSON(k))
}

func (a *trustAPI) deleteKey(c *gin.Context) {
	n, ok := pathID(c, "key")
	if !ok {
		return
	}
	if err := a.trust.DeleteKey(c.Request.Context(), identity(c), hookTarget(c), n); err != nil {
		a.error(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

type policyBody struct {
	RequireSignature bool   `json:"require_signature"`
	BlockSeverity    string `json:"block_severity"`
}

type policyJSON struct {
	RequireSignature bool   `json:"require_signature"`
	BlockSeverity    string `json:"block_severity"`
	// Effective is what a pull must pass: the repository's policy with
	// its namespace's.
	Effective policyBody `json:"effective"`
}

func toPolicyJSON(p *hub.PolicyView) policyJSON {
	return policyJSON{RequireSignature: p.Own.RequireSignature, BlockSeverity: p.Own.BlockSeverity,
		Effective: policyBody{RequireSignature: p.Effective.RequireSignature, BlockSeverity: p.Effective.BlockSeverity}}
}

func (a *trustAPI) getPolicy(c *gin.Context) {
	p, err := a.trust.Policy(c.Request.Context(), identity(c), hookTarget(c))
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, toPolicyJSON(p))
}

func (a *trustAPI) setPolicy(c *gin.Context, body *policyBody) {
	p, err := a.trust.SetPolicy(c.Request.Context(), identity(c), hookTarget(c),
		models.Policy{RequireSignature: body.RequireSignature, BlockSeverity: body.BlockSeverity})
	if err != nil {
		a.error(c, err)
		return
	}
	c.JSON(http.StatusOK, toPolicyJSON(p))
}
