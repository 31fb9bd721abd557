package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wharfhub/wharf/models"
)

// hookLog is a webhook of alice/app with one delivery in each state.
type hookLog struct {
	page                                 string // the webhook's page
	hookID                               int64
	delivered, retrying, failed, pending string // delivery ids
	retryAt                              time.Time
}

// seedHookLog makes alice/app with a webhook, and records on it, as the
// worker does, a delivery that went through on its second attempt, one
// being retried, one that failed after three attempts and one not tried
// yet. The app's worker does not run: nothing is sent.
func seedHookLog(t *testing.T, e *env, a *browser) hookLog {
	t.Helper()
	ctx := t.Context()
	a.must(a.post("/new", "/new", url.Values{"namespace": {"alice"}, "name": {"app"}, "visibility": {"public"}}), http.StatusSeeOther, "create")
	a.must(a.post("/r/alice/app/settings", "/r/alice/app/webhooks", url.Values{"name": {"deploy"}, "url": {"https://deploy.example.com/hook"},
		"events": {"push"}, "secret": {"s"}}), http.StatusSeeOther, "add webhook")
	hooks, err := e.app.Hub.Webhooks.List(ctx, mustID(t, e, "alice"), hubTarget("alice/app"))
	if err != nil || len(hooks) != 1 {
		t.Fatalf("webhooks: %+v, %v", hooks, err)
	}
	h := &hooks[0]
	db := e.app.DB
	now := time.Now().UTC()
	l := hookLog{page: fmt.Sprintf("/r/alice/app/webhooks/%d", h.ID), hookID: h.ID, retryAt: now.Add(10 * time.Minute)}
	body := `{"callback_url":"http://wharf.test/cb","push_data":{"tag":"v1","pusher":"alice"},"repository":{"repo_name":"alice/app"}}`
	headers := "Content-Type: application/json\nX-Wharf-Event: push\n"
	fail503 := models.Attempt{RequestHeaders: headers, RequestBody: body, StatusCode: 503, ResponseHeaders: "Content-Type: text/plain\n",
		ResponseBody: "try again later", Duration: 40 * time.Millisecond, Error: "the receiver answered 503"}
	deliver := func(attempts ...models.Attempt) string {
		t.Helper()
		d, err := db.Webhooks.EnqueueTest(ctx, h, "alice/app", "alice")
		if err != nil {
			t.Fatal(err)
		}
		for i, at := range attempts {
			at.SentAt = now.Add(time.Duration(i-len(attempts)) * time.Minute)
			if err := db.Deliveries.RecordAttempt(ctx, d, at, at.SentAt); err != nil {
				t.Fatal(err)
			}
		}
		return d.ID
	}
	retry := func(a models.Attempt, at time.Time) models.Attempt { a.RetryAt = at; return a }
	ok := models.Attempt{RequestHeaders: headers, RequestBody: body, StatusCode: 200, ResponseHeaders: "Content-Type: application/json\n",
		ResponseBody: `{"deployed":true,"version":"v1"}`, Duration: 35 * time.Millisecond, Done: true, Success: true}
	gaveUp := fail503
	gaveUp.Done = true
	l.delivered = deliver(retry(fail503, now.Add(-time.Minute)), ok)
	l.retrying = deliver(retry(fail503, now.Add(-time.Minute)), retry(fail503, l.retryAt))
	l.failed = deliver(retry(fail503, now.Add(-2*time.Minute)), retry(fail503, now.Add(-time.Minute)), gaveUp)
	l.pending = deliver()
	return l
}

var deliveryRE = regexp.MustCompile(`(?s)<li class="delivery state-(\w+)">\s*<details id="delivery-([^"]+)">.*?</details>`)

// The log says each delivery's state in words, when a retried one is
// tried next (and of no other), and shows payloads indented.
func TestWebhookDeliveryLog(t *testing.T) {
	e := newEnv(t, "alice")
	a := e.browser()
	a.signin("alice")
	l := seedHookLog(t, e, a)
	body := a.must(a.get(l.page), http.StatusOK, "webhook page").body
	rows := map[string]string{}
	states := map[string]string{}
	for _, m := range deliveryRE.FindAllStringSubmatch(body, -1) {
		rows[m[2]], states[m[2]] = html.UnescapeString(m[0]), m[1]
	}
	at := l.retryAt.Format("15:04 UTC")
	if l.retryAt.YearDay() != time.Now().UTC().YearDay() {
		at = l.retryAt.Format("2006-01-02 15:04 UTC")
	}
	for _, tc := range []struct {
		name, id, state string
		want, not       []string
	}{
		{"delivered", l.delivered, "delivered",
			[]string{"Delivered on attempt 2", "answered 200", "\"deployed\": true,\n  \"version\": \"v1\"", "Content-Type: application/json"},
			[]string{"next try", "Retrying", "Failed"}},
		{"retrying", l.retrying, "retrying",
			[]string{"Retrying — attempt 2 failed, next try in 10 min (at " + at + ")", "retry at " + at, "try again later", "answered 503"},
			[]string{"Delivered", "Failed"}},
		{"failed", l.failed, "failed",
			[]string{"Failed after 3 attempts", "the receiver answered 503", "<td>3</td>"},
			[]string{"next try", "Retrying", "Delivered"}},
		{"pending", l.pending, "pending",
			[]string{"Queued — first try due now"},
			[]string{"Delivered", "Failed", "<h3>Answer"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			row, ok := rows[tc.id]
			if !ok {
				t.Fatalf("delivery %s is not in the log:\n%s", tc.id, body)
			}
			if states[tc.id] != tc.state {
				t.Errorf("state class %q, want %q", states[tc.id], tc.state)
			}
			for _, w := range tc.want {
				if !strings.Contains(row, w) {
					t.Errorf("the row lacks %q:\n%s", w, row)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(row, n) {
					t.Errorf("the row says %q:\n%s", n, row)
				}
			}
			// The payload is indented (every delivery sent has one).
			if tc.state != "pending" && !strings.Contains(row, "{\n  \"callback_url\": \"http://wharf.test/cb\",\n  \"push_data\": {\n    \"tag\": \"v1\"") {
				t.Errorf("the payload is not indented:\n%s", row)
			}
		})
	}
	if strings.Contains(body, "style=") || strings.Contains(body, "onclick") {
		t.Error("the page has inline style or script")
	}
}
