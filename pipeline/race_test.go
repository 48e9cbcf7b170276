//go:build race

package pipeline_test

// raceEnabled reports a -race build: the race detector slows message
// passing several times, so the largest tests run fewer messages.
const raceEnabled = true
