package web

import (
	"errors"

	"github.com/wharfhub/wharf/server/auth"
	"github.com/wharfhub/wharf/server/hub"
)

func asInvalid(err error, inv **hub.Invalid) bool { return errors.As(err, inv) }
func isConflict(err error) bool                   { return errors.Is(err, hub.ErrConflict) }
func isDenied(err error) bool                     { return errors.Is(err, auth.ErrDenied) }
