// Command wharf is the Wharf registry hub: `wharf serve` runs it, the other
// subcommands administer its data directory. `user create` adds an account,
// `search reindex` rebuilds the search index (server stopped), `gc` collects
// garbage (server running or not) and `deploy-hook` receives Wharf's push
// webhooks and runs a deploy command, through package deployhook.
//
// run is the whole CLI, with the arguments, environment and standard streams
// passed in, so tests drive it without a process. Each subcommand reads its
// settings with server/config and opens the data directory with server.Open;
// the wiring itself is package server's.
package main
