package api_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/wharfhub/wharf/models"
)

// The delivery log in the API: every delivery says its state, its attempts
// and when it is tried next (null unless it is to be), one delivery adds
// its attempt history, and the fields from before are all still there;
// under a repository and under a namespace alike.
func TestDeliveryLogFields(t *testing.T) {
	e := newEnv(t, "alice")
	ctx := t.Context()
	e.must("POST", "/api/v1/repositories", "alice", map[string]string{"namespace": "alice", "name": "app"}, 201)
	for _, base := range []string{"/api/v1/repositories/alice/app", "/api/v1/namespaces/alice"} {
		t.Run(base, func(t *testing.T) {
			var hook struct{ ID int64 }
			e.must("POST", base+"/webhooks", "alice", map[string]any{"name": "deploy", "url": "https://deploy.example.com/hook"}, 201).json(&hook)
			h, err := e.app.DB.Webhooks.Get(ctx, hook.ID)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC().Truncate(time.Second)
			retryAt := now.Add(5 * time.Minute)
			fail := models.Attempt{RequestBody: "{}", StatusCode: 503, Error: "the receiver answered 503", Duration: 20 * time.Millisecond}
			seed := func(attempts ...models.Attempt) string {
				t.Helper()
				d, err := e.app.DB.Webhooks.EnqueueTest(ctx, h, "alice/app", "alice")
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range attempts {
					if err := e.app.DB.Deliveries.RecordAttempt(ctx, d, a, now); err != nil {
						t.Fatal(err)
					}
				}
				return d.ID
			}
			retrying := fail
			retrying.RetryAt = retryAt
			done := fail
			done.Done = true
			ok := models.Attempt{RequestBody: "{}", StatusCode: 200, ResponseBody: `{"ok":true}`, Done: true, Success: true}
			ids := map[string]string{
				"pending":   seed(),
				"retrying":  seed(retrying),
				"failed":    seed(retrying, done),
				"delivered": seed(retrying, ok),
			}
			path := fmt.Sprintf("%s/webhooks/%d/deliveries", base, hook.ID)
			var list []map[string]json.RawMessage
			e.must("GET", path, "alice", nil, 200).json(&list)
			byID := map[string]map[string]json.RawMessage{}
			for _, d := range list {
				var id string
				_ = json.Unmarshal(d["id"], &id)
				byID[id] = d
			}
			for _, tc := range []struct {
				state    string
				attempts int
				next     string // next_attempt_at, JSON
				status   string
			}{
				{"pending", 0, "", "pending"},
				{"retrying", 1, `"` + retryAt.Format(time.RFC3339) + `"`, "pending"},
				{"failed", 2, "null", "failed"},
				{"delivered", 2, "null", "delivered"},
			} {
				d := byID[ids[tc.state]]
				if d == nil {
					t.Fatalf("%s: not listed in %s", tc.state, path)
				}
				// The fields from before the log had states stay.
				for _, k := range []string{"id", "event", "repository", "status", "status_code", "attempts", "delivered_at", "duration_ms", "created_at", "state", "next_attempt_at"} {
					if _, ok := d[k]; !ok {
						t.Errorf("%s: no %q in %s", tc.state, k, mapKeys(d))
					}
				}
				if got := string(d["state"]); got != `"`+tc.state+`"` {
					t.Errorf("%s: state %s", tc.state, got)
				}
				if got := string(d["status"]); got != `"`+tc.status+`"` {
					t.Errorf("%s: status %s, want %q", tc.state, got, tc.status)
				}
				if got := string(d["attempts"]); got != fmt.Sprint(tc.attempts) {
					t.Errorf("%s: attempts %s, want %d", tc.state, got, tc.attempts)
				}
				if tc.next != "" && string(d["next_attempt_at"]) != tc.next {
					t.Errorf("%s: next_attempt_at %s, want %s", tc.state, d["next_attempt_at"], tc.next)
				}
				if _, ok := d["history"]; ok {
					t.Errorf("%s: the list carries the history", tc.state)
				}
				var one struct {
					State        string     `json:"state"`
					RequestBody  string     `json:"request_body"`
					ResponseBody string     `json:"response_body"`
					Next         *time.Time `json:"next_attempt_at"`
					History      []struct {
						Number     int        `json:"number"`
						SentAt     time.Time  `json:"sent_at"`
						StatusCode int        `json:"status_code"`
						DurationMS int64      `json:"duration_ms"`
						Error      string     `json:"error"`
						RetryAt    *time.Time `json:"retry_at"`
					} `json:"history"`
				}
				e.must("GET", path+"/"+ids[tc.state], "alice", nil, 200).json(&one)
				if one.State != tc.state || len(one.History) != tc.attempts {
					t.Fatalf("%s: one delivery: %+v", tc.state, one)
				}
				for i, a := range one.History {
					if a.Number != i+1 || !a.SentAt.Equal(now) {
						t.Errorf("%s: attempt %d: %+v", tc.state, i+1, a)
					}
				}
				if tc.attempts > 0 {
					first, last := one.History[0], one.History[len(one.History)-1]
					if first.StatusCode != 503 || first.DurationMS != 20 || first.Error == "" || first.RetryAt == nil || !first.RetryAt.Equal(retryAt) {
						t.Errorf("%s: the first attempt: %+v", tc.state, first)
					}
					if tc.state != "retrying" && last.RetryAt != nil {
						t.Errorf("%s: the last attempt was to be retried: %+v", tc.state, last)
					}
				}
			}
		})
	}
}

func mapKeys(m map[string]json.RawMessage) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
