package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/wharfhub/wharf/models"
	"github.com/wharfhub/wharf/server/hub"
)

// deliveryView is one delivery of a webhook's log, as its page shows it.
type deliveryView struct {
	hub.DeliveryLog
	State string // models.State*
	// Mark and Label say the state in text (the colour only repeats it):
	// "Delivered", "Retrying — attempt 2 failed, next try in 2 min (at
	// 10:42 UTC)", "Failed after 3 attempts".
	Mark, Label string
	// RequestText and ResponseText are the bodies as stored, indented
	// when they are JSON.
	RequestText, ResponseText string
	History                   []attemptView
	// Unrecorded counts the attempts before the history was kept.
	Unrecorded int
}

// attemptView is one attempt in a delivery's history.
type attemptView struct {
	models.DeliveryAttempt
	// Sent is when it was sent; Then is what came next: a retry, and
	// when.
	Sent, Then string
}

// prettyLimit bounds the bodies indented: a longer one is shown as stored.
const prettyLimit = 256 << 10

// prettyJSON indents s if it is a JSON object or array, and returns it as
// it is otherwise (an answer cut at its excerpt's end is no longer JSON).
func prettyJSON(s string) string {
	t := strings.TrimSpace(s)
	if len(t) > prettyLimit || t == "" || (t[0] != '{' && t[0] != '[') {
		return s
	}
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(t), "", "  "); err != nil {
		return s
	}
	return b.String()
}

func deliveryViews(logs []hub.DeliveryLog, now time.Time) []deliveryView {
	out := make([]deliveryView, len(logs))
	for i, l := range logs {
		v := deliveryView{DeliveryLog: l, State: l.State(), RequestText: prettyJSON(l.RequestBody), ResponseText: prettyJSON(l.ResponseBody)}
		v.Mark, v.Label = stateLabel(&l.Delivery, now)
		for _, a := range l.History {
			av := attemptView{DeliveryAttempt: a, Sent: clock(a.SentAt, now)}
			if a.RetryAt != nil {
				av.Then = "retry at " + clock(*a.RetryAt, now)
			}
			v.History = append(v.History, av)
		}
		if len(l.History) > 0 {
			v.Unrecorded = max(0, l.History[0].Number-1)
		} else {
			v.Unrecorded = l.Attempts
		}
		out[i] = v
	}
	return out
}

// stateLabel says what became of a delivery, and when it is tried next.
func stateLabel(d *models.Delivery, now time.Time) (mark, label string) {
	switch d.State() {
	case models.StateDelivered:
		if d.Attempts > 1 {
			return "✓", fmt.Sprintf("Delivered on attempt %d", d.Attempts)
		}
		return "✓", "Delivered"
	case models.StateFailed:
		return "✕", "Failed after " + plural(d.Attempts, "attempt")
	}
	next := "first try"
	mark, label = "…", "Queued — "
	switch {
	case d.Attempts > 0 && d.Error == "":
		// Redelivered after it went through.
		next = "next try"
		mark, label = "↻", fmt.Sprintf("Queued again after %s — ", plural(d.Attempts, "attempt"))
	case d.Attempts > 0:
		next = "next try"
		mark, label = "↻", fmt.Sprintf("Retrying — attempt %d failed, ", d.Attempts)
	}
	if d.Status == models.DeliverySending {
		return mark, label + "sending the " + next + " now"
	}
	at := d.NextAttemptAt
	if !at.After(now) {
		return mark, label + next + " due now (since " + clock(at, now) + ")"
	}
	return mark, label + next + " " + until(at.Sub(now)) + " (at " + clock(at, now) + ")"
}

// until says how far off a time d from now is, as people say it.
func until(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "in under a minute"
	case d < time.Hour:
		return fmt.Sprintf("in %d min", int((d+time.Minute-1)/time.Minute))
	case d < 48*time.Hour:
		h := int(d / time.Hour)
		if m := int((d % time.Hour) / time.Minute); m > 0 {
			return fmt.Sprintf("in %d h %d min", h, m)
		}
		return fmt.Sprintf("in %d h", h)
	}
	return "in " + plural(int(d/(24*time.Hour)), "day")
}

// clock is t in UTC: the time of day if it is today's, else with the date.
func clock(t, now time.Time) string {
	t, now = t.UTC(), now.UTC()
	if t.YearDay() == now.YearDay() && t.Year() == now.Year() {
		return t.Format("15:04 UTC")
	}
	return t.Format("2006-01-02 15:04 UTC")
}
