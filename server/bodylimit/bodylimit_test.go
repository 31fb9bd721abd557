package bodylimit_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/server/bodylimit"
)

// counting is a request body that counts what was read from it.
type counting struct {
	r    io.Reader
	read int64
}

func (c *counting) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += int64(n)
	return n, err
}
func (c *counting) Close() error { return nil }

func TestMiddleware(t *testing.T) {
	const limit = 1000
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	refused := func(c *gin.Context, n int64) { c.String(http.StatusRequestEntityTooLarge, "refused at %d", n) }
	r.POST("/", bodylimit.Middleware(func(*gin.Context) int64 { return limit }, refused), func(c *gin.Context) {
		b, err := io.ReadAll(c.Request.Body)
		switch {
		case bodylimit.TooLarge(err):
			c.String(http.StatusRequestEntityTooLarge, "too large while reading")
		case err != nil:
			c.String(http.StatusInternalServerError, err.Error())
		default:
			c.String(http.StatusOK, "read %d", len(b))
		}
	})
	tests := []struct {
		name          string
		size          int
		knownLength   bool
		status        int
		answer        string
		maxRead       int64
		closesConnect bool
	}{
		{"a small body is read", 10, true, 200, "read 10", 10, false},
		{"a body of exactly the limit is read", limit, true, 200, "read 1000", limit, false},
		{"a stream of exactly the limit is read", limit, false, 200, "read 1000", limit, false},
		{"a Content-Length over the limit is refused unread", limit + 1, true, 413, "refused at 1000", 0, true},
		{"a huge Content-Length is refused unread", 100 * limit, true, 413, "refused at 1000", 0, true},
		{"a stream over the limit stops at the limit", 100 * limit, false, 413, "too large while reading", limit + 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := &counting{r: strings.NewReader(strings.Repeat("x", tc.size))}
			req := httptest.NewRequest("POST", "/", nil)
			req.Body = body
			req.ContentLength = -1
			if tc.knownLength {
				req.ContentLength = int64(tc.size)
			}
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			if w.Code != tc.status || w.Body.String() != tc.answer {
				t.Fatalf("answer %d %q, want %d %q", w.Code, w.Body.String(), tc.status, tc.answer)
			}
			if body.read > tc.maxRead {
				t.Fatalf("read %d bytes of the body, want at most %d", body.read, tc.maxRead)
			}
			if got := w.Header().Get("Connection") == "close"; got != tc.closesConnect {
				t.Fatalf("Connection: close = %v, want %v", got, tc.closesConnect)
			}
		})
	}
}
