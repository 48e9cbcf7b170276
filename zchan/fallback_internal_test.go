package zchan

import (
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// TestFallbackWarnsOnce checks that falling back to pebbe's receive path
// is said once per process, on the first logger that logs warnings, and
// not on one that does not (a no-op logger must not use up the warning).
func TestFallbackWarnsOnce(t *testing.T) {
	defer fallbackWarned.Store(fallbackWarned.Load())
	fallbackWarned.Store(false)
	warnFallback(zap.NewNop(), "test")
	core, logs := observer.New(zap.WarnLevel)
	l := zap.New(core)
	warnFallback(l, "first")
	warnFallback(l, "second")
	if n := logs.Len(); n != 1 {
		t.Fatalf("%d warnings, want 1: %v", n, logs.All())
	}
	if got := logs.All()[0].ContextMap()["why"]; got != "first" {
		t.Errorf("warning says why %q, want the first reason", got)
	}
}
