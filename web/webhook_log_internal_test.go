package web

import (
	"strings"
	"testing"
	"time"

	"github.com/wharfhub/wharf/models"
)

// Bodies are indented when they are JSON, and kept as stored otherwise.
func TestPrettyJSON(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"object", `{"a":1,"b":[true,null]}`, "{\n  \"a\": 1,\n  \"b\": [\n    true,\n    null\n  ]\n}"},
		{"array", ` [1,2] `, "[\n  1,\n  2\n]"},
		{"text", "try again later", "try again later"},
		{"cut at the excerpt's end", `{"a":"bc`, `{"a":"bc`},
		{"html", "<html><body>{}</body></html>", "<html><body>{}</body></html>"},
		{"empty", "", ""},
		{"too long to indent", `{"a":"` + strings.Repeat("x", prettyLimit) + `"}`, `{"a":"` + strings.Repeat("x", prettyLimit) + `"}`},
	} {
		if got := prettyJSON(tc.in); got != tc.want {
			t.Errorf("%s: prettyJSON(%.40q) = %.60q, want %.60q", tc.name, tc.in, got, tc.want)
		}
	}
}

// A delivery's label says its state, and when it is tried next only
// while it is to be.
func TestStateLabel(t *testing.T) {
	now := time.Date(2025, 3, 4, 10, 40, 0, 0, time.UTC)
	const e503 = "the receiver answered 503"
	for _, tc := range []struct {
		name string
		d    models.Delivery
		want string
	}{
		{"delivered", models.Delivery{Status: models.DeliveryDelivered, Attempts: 1}, "Delivered"},
		{"delivered on a retry", models.Delivery{Status: models.DeliveryDelivered, Attempts: 3}, "Delivered on attempt 3"},
		{"failed", models.Delivery{Status: models.DeliveryFailed, Attempts: 9}, "Failed after 9 attempts"},
		{"failed at once", models.Delivery{Status: models.DeliveryFailed, Attempts: 1}, "Failed after 1 attempt"},
		{"retrying", models.Delivery{Status: models.DeliveryPending, Attempts: 2, Error: e503, NextAttemptAt: now.Add(2 * time.Minute)},
			"Retrying — attempt 2 failed, next try in 2 min (at 10:42 UTC)"},
		{"retrying in seconds", models.Delivery{Status: models.DeliveryPending, Attempts: 1, Error: e503, NextAttemptAt: now.Add(20 * time.Second)},
			"Retrying — attempt 1 failed, next try in under a minute (at 10:40 UTC)"},
		{"retrying tomorrow", models.Delivery{Status: models.DeliveryPending, Attempts: 1, Error: e503, NextAttemptAt: now.Add(14 * time.Hour)},
			"Retrying — attempt 1 failed, next try in 14 h (at 2025-03-05 00:40 UTC)"},
		{"retry overdue", models.Delivery{Status: models.DeliveryPending, Attempts: 4, Error: e503, NextAttemptAt: now.Add(-time.Minute)},
			"Retrying — attempt 4 failed, next try due now (since 10:39 UTC)"},
		{"being retried", models.Delivery{Status: models.DeliverySending, Attempts: 2, Error: e503, NextAttemptAt: now.Add(2 * time.Minute)},
			"Retrying — attempt 2 failed, sending the next try now"},
		{"redelivered", models.Delivery{Status: models.DeliveryPending, Attempts: 1, StatusCode: 200, NextAttemptAt: now},
			"Queued again after 1 attempt — next try due now (since 10:40 UTC)"},
		{"queued", models.Delivery{Status: models.DeliveryPending, NextAttemptAt: now}, "Queued — first try due now (since 10:40 UTC)"},
		{"being sent", models.Delivery{Status: models.DeliverySending, NextAttemptAt: now.Add(time.Minute)}, "Queued — sending the first try now"},
	} {
		if _, got := stateLabel(&tc.d, now); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
