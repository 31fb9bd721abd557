//go:build !race

package markdown

// slowdown is how much slower the race detector makes Render.
const slowdown = 1
