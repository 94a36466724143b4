//go:build !race

package tools_test

// raceEnabled reports whether the tests run under the race detector.
const raceEnabled = false
