// Package events carries what happened in the registry to whoever cares:
// a push goes out once, through the bus, and search and webhooks each
// subscribe to it; the services that publish know nothing of them.
//
// A Bus is in-process and synchronous: Publish calls every subscriber in
// turn and never waits on one, so a subscriber only hands the Event off (to
// a queue, a wake-up channel) and returns. It reaches this replica only;
// other replicas learn of a change through the database, from the change
// log package indexer records. A nil *Bus drops events.
package events
