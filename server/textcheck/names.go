package textcheck

import "regexp"

// namespaceName is Docker Hub's rule for a user's or an organization's
// name, which is also a mirror's namespace: 2 to 64 characters, lowercase
// letters, digits, '-' and '_', starting with a letter or a digit.
var namespaceName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{1,63}$`)

// NamespaceName reports whether s may name a namespace (a user, an
// organization or a mirror). It is the one rule; every other package asks
// it.
func NamespaceName(s string) bool { return namespaceName.MatchString(s) }
