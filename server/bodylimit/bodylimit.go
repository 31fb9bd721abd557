package bodylimit

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
)

// Limits, in bytes.
const (
	// Default bounds every /api/v1 request and every UI form: far more
	// than any of their JSON bodies or forms needs.
	Default int64 = 256 << 10
	// Readme bounds the routes that carry a README: the repository PATCH
	// of the API and the repository settings form of the UI. The README
	// itself is capped tighter by the hub; this leaves room for that cap
	// and the JSON or form encoding around it.
	Readme int64 = 1 << 20
	// ScannerDatabase bounds the upload of a vulnerability database
	// bundle (Trivy's is about 80 MB), which is streamed to the blob
	// store, never held in memory.
	ScannerDatabase int64 = 4 << 30
)

// Middleware bounds the request body to limit(c) bytes before any later
// handler runs. A Content-Length over the limit is refused at once, with
// refuse, and nothing of the body is read; any other body is wrapped in
// http.MaxBytesReader, so that reading past the limit fails with an error
// TooLarge recognizes (and the connection closes after the answer instead
// of draining the rest).
func Middleware(limit func(c *gin.Context) int64, refuse func(c *gin.Context, limit int64)) gin.HandlerFunc {
	return func(c *gin.Context) {
		n := limit(c)
		if c.Request.ContentLength > n {
			c.Header("Connection", "close")
			refuse(c, n)
			c.Abort()
			return
		}
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(unwrap(c.Writer), c.Request.Body, n)
		}
	}
}

// TooLarge reports whether err came from reading a body past its limit.
func TooLarge(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}

// unwrap finds the server's own ResponseWriter under gin's, so that
// MaxBytesReader can tell the server to close the connection.
func unwrap(w http.ResponseWriter) http.ResponseWriter {
	for {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return w
		}
		w = u.Unwrap()
	}
}
