// Package hub is the service behind the hub's JSON API and web pages:
// repositories as people see them (visibility, description, README, tags,
// collaborators) and organizations. Every method takes the caller and asks
// the auth policy before it reads or writes anything.
package hub
