package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/clientaddr"
	"github.com/wharfhub/wharf/server/reqlog"
)

// auditTrail is the app's part in the audit log: the state every
// request carries and the sweep of old entries.
type auditTrail struct {
	db        *models.DB
	addr      *clientaddr.Resolver
	log       *slog.Logger
	retention time.Duration // --audit-retention; 0 keeps entries forever
}

func newAuditTrail(a *App) auditTrail {
	return auditTrail{db: a.DB, addr: a.ClientAddr, log: a.Log, retention: a.Config.AuditRetention}
}

// middleware gives every request its audit state: the client's address
// (the one client-address function), and who acts once a door has
// authenticated the caller (auth.Acting). The services note what they
// change; the change's transaction writes the entry (models.Note). What
// is left when the request ends is recorded here: a change refused to a
// signed-in caller (403) is a denied entry.
func (t auditTrail) middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, au := models.WithAuditing(c.Request.Context(),
			models.Actor{Kind: models.ActorAnonymous, Address: t.addr.IP(c.Request)})
		c.Request = c.Request.WithContext(ctx)
		c.Next()
		note, recorded, stray := au.Outcome()
		if recorded {
			return
		}
		log := reqlog.From(ctx, t.log)
		if stray > 0 && c.Writer.Status() < 400 {
			log.Error("audit: a change was made outside its audited transaction", "path", c.Request.URL.Path,
				"changes", stray)
		}
		actor := au.Actor()
		if !changes(c.Request.Method) || actor.Kind == models.ActorAnonymous || c.Writer.Status() != http.StatusForbidden {
			return
		}
		n := models.AuditNote{Action: "request", Target: c.Request.Method + " " + c.Request.URL.Path}
		if note != nil {
			n = *note
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := t.db.Audit.Record(rctx, actor, n, models.AuditDenied); err != nil {
			log.Error("audit: record a refusal", "err", err)
		}
	}
}

// changes reports whether a request of method asks to change something.
func changes(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// sweep drops audit entries older than --audit-retention, now and
// then, until ctx ends. Every replica sweeps; a batch another one took
// is simply not there any more.
func (t auditTrail) sweep(ctx context.Context, every time.Duration) {
	keep := t.retention
	if keep <= 0 {
		return
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		n, err := t.db.Audit.Purge(ctx, time.Now().Add(-keep))
		switch {
		case err != nil && ctx.Err() == nil:
			t.log.Error("audit: purge old entries", "err", err)
		case n > 0:
			t.log.Info("audit: purged old entries", "count", n, "older_than", keep.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// AsSystem returns ctx with audit state whose actor is the system, by
// name: what an admin command (wharf user create, wharf scanner db
// import) changes is in the audit log as the command's.
func AsSystem(ctx context.Context, name string) context.Context {
	ctx, _ = models.WithAuditing(ctx, models.Actor{Name: name, Kind: models.ActorSystem})
	return ctx
}
