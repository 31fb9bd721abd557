//go:build race

package gc_test

// raceEnabled: the race detector slows every push several times over.
const raceEnabled = true
