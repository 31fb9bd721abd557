// Kept as its own module so the benchmark harness never touches Wharf's
// dependency graph (go.mod/go.sum at the repository root).
module github.com/wharfhub/wharf/bench

go 1.26
