//go:build !race

package testutil

// RaceSlowdown is how many times slower the race detector makes CPU-bound
// code, for tests that bound how long something takes.
const RaceSlowdown = 1
