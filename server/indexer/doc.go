// Package indexer keeps the search index following the database. Every
// replica records the registry events it sees in the database's change
// log, and every replica's indexer polls that log, so a change made
// through one replica is searchable on all of them within a second. A
// new, broken or too stale index is rebuilt from the database while it
// serves.
//
// An Indexer subscribes to the event bus and queues what it hears without
// blocking; Run, its one background loop, records in the log what
// arrives within FlushInterval as one batch, reads the log past its cursor
// (every PollInterval when this replica is quiet), reindexes or deletes the
// repositories and namespaces the entries name, loading them from the
// database, and prunes entries older than LogRetention. The cursor is saved
// beside the index (CursorPath) and a hole in the log's ids is waited for,
// since on PostgreSQL an entry can commit after a later one; an index whose
// cursor is missing or pruned away is rebuilt. Sync waits for what is
// queued to reach the index.
package indexer
