package events

import "testing"

func TestPublishReachesEverySubscriber(t *testing.T) {
	b := New()
	var got []string
	b.Subscribe(func(e Event) { got = append(got, "a:"+e.Repository) })
	b.Subscribe(func(e Event) { got = append(got, "b:"+string(e.Kind)) })
	b.Publish(Event{Kind: Push, Repository: "x/y"})
	if len(got) != 2 || got[0] != "a:x/y" || got[1] != "b:push" {
		t.Fatalf("got %v", got)
	}
	var nilBus *Bus
	nilBus.Publish(Event{Kind: Push}) // must not panic
}
