package reqlog

import (
	"context"
	"log/slog"
)

type key struct{}

// With returns ctx carrying log, the request's logger.
func With(ctx context.Context, log *slog.Logger) context.Context {
	return context.WithValue(ctx, key{}, log)
}

// From is the logger ctx carries, or fallback outside a request.
func From(ctx context.Context, fallback *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(key{}).(*slog.Logger); ok {
		return l
	}
	return fallback
}
