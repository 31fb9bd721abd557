package web

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wharfhub/wharf/server/bodylimit"
	"github.com/wharfhub/wharf/server/hub"
)

// scannerPages are the site administrators' page of the vulnerability
// scanner: its state, its database's age, and the upload of a newer
// database bundle.
type scannerPages struct {
	*adminPages
	scans *hub.Scans
}

// databaseUploadPath is the one form whose body is streamed rather than
// parsed: a database bundle is far larger than any other form.
const databaseUploadPath = "/admin/scanner/database"

type scannerView struct {
	State *hub.ScannerState
	// Age is how old the database is, in words ("" without one).
	Age   string
	Stale bool // older than a week: scans miss what was published since
	Error string
}

// scanner serves GET /admin/scanner.
func (w *scannerPages) scanner(c *gin.Context) {
	if w.requireAdmin(c) {
		w.renderScanner(c, http.StatusOK, "")
	}
}

func (w *scannerPages) renderScanner(c *gin.Context, status int, msg string) {
	st, err := w.scans.State(c.Request.Context(), pc(c).User)
	if err != nil {
		w.fail(c, err)
		return
	}
	v := scannerView{State: st, Error: msg}
	if d := st.Database; d != nil {
		age := time.Since(d.UpdatedAt)
		v.Age, v.Stale = ageWords(age), age > 7*24*time.Hour
	}
	w.render(c, status, "admin_scanner.html", "Scanner", v)
}

// ageWords says a duration the way the page does: days, or hours.
func ageWords(d time.Duration) string {
	switch {
	case d < time.Hour:
		return "less than an hour"
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// uploadDatabase serves POST /admin/scanner/database: the form's file
// part streams into the import (page checked the CSRF field, which the
// form sends first).
func (w *scannerPages) uploadDatabase(c *gin.Context) {
	if !w.requireAdmin(c) {
		return
	}
	mr, _ := c.Get(streamedFormKey)
	form, ok := mr.(*multipart.Reader)
	if !ok {
		w.renderScanner(c, http.StatusBadRequest, "Choose a database bundle (db.tar.gz) to upload.")
		return
	}
	part, err := form.NextPart()
	if err == io.EOF || (err == nil && part.FormName() != "bundle") {
		w.renderScanner(c, http.StatusBadRequest, "Choose a database bundle (db.tar.gz) to upload.")
		return
	}
	if err != nil {
		w.uploadFailed(c, err)
		return
	}
	body := &readErr{r: part}
	if _, err := w.scans.ImportDatabase(c.Request.Context(), pc(c).User, body); err != nil {
		if body.err != nil {
			err = body.err // the upload failed, not the import
		}
		w.uploadFailed(c, err)
		return
	}
	w.addFlash(c, "ok", "Vulnerability database imported: every scanned image is being scanned again with it.")
	redirectTo(c, "/admin/scanner")
}

func (w *scannerPages) uploadFailed(c *gin.Context, err error) {
	var inv *hub.Invalid
	switch {
	case bodylimit.TooLarge(err):
		c.Header("Connection", "close")
		w.tooLarge(c, bodylimit.ScannerDatabase)
	case asInvalid(err, &inv):
		w.renderScanner(c, http.StatusBadRequest, inv.Msg)
	case isUploadError(err):
		w.renderScanner(c, http.StatusBadRequest, "The upload was cut short or is not a form upload; try again.")
	default:
		w.fail(c, err)
	}
}

// readErr remembers the error reading the upload failed with, so that a
// broken upload is told apart from a failed import.
type readErr struct {
	r   io.Reader
	err error
}

func (e *readErr) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

// isUploadError reports whether err is the client's upload breaking
// off (not the limit, which is told apart first).
func isUploadError(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, multipart.ErrMessageTooLarge) ||
		strings.HasPrefix(err.Error(), "multipart:")
}

// streamedFormKey holds a streamed form's reader, past its CSRF field.
const streamedFormKey = "wharf.streamed-form"

// streamedForm opens a multipart form for streaming and reads its first
// field, which must be the CSRF token ("" if it is not).
func streamedForm(r *http.Request) (*multipart.Reader, string) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, ""
	}
	p, err := mr.NextPart()
	if err != nil || p.FormName() != csrfField {
		return nil, ""
	}
	b, err := io.ReadAll(io.LimitReader(p, 512))
	if err != nil {
		return nil, ""
	}
	return mr, string(b)
}
