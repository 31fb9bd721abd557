// Package hub is the service behind the hub's JSON API and web pages:
// repositories as people see them, organizations, stars and comments,
// webhooks, listings and search. Every method takes the caller and asks
// the one auth policy before it reads or writes anything; a repository
// the caller may not see is ErrNotFound, like a missing one.
//
// Service is a set of small services, one per area, over one shared base
// (the database, the policy, the event bus and the Markdown renderer), so
// that each HTTP handler holds only the part it uses:
//
//   - Repos: get, create, update and delete repositories; collaborators,
//     tags and the README's stored HTML.
//   - Orgs: organizations and their members.
//   - Namespaces: a user's or an organization's namespace, its storage use
//     and its quota.
//   - Social: stars and comments (Markdown rendered once, when saved).
//   - Webhooks: namespace and repository webhooks, their deliveries and
//     the deploy receiver's callbacks.
//   - Discover: listings and search, filtered by what the caller may see.
//
// Errors that are the caller's to fix are *Invalid (ErrInvalid), with a
// message for them; server/apierr maps these and the policy's errors to
// the codes the API and the pages answer.
package hub
