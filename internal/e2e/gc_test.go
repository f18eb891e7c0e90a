package e2e

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
)

// TestServerGCTarget checks, on a real `duro serve` process, that Duro
// runs Go's garbage collector at its own targets unless GOGC chooses one:
// a heap goal of at least 128 MiB while the live heap is small, and at
// least 200 % (cmd/duro defaultGCPercent and heapFloor). The process
// reports them on /metrics as go_gc_gogc_percent and
// go_memstats_next_gc_bytes.
func TestServerGCTarget(t *testing.T) {
	if testing.Short() {
		t.Skip("builds duro and runs it as a child process")
	}
	bin := procBuildDuro(t)
	for _, tc := range []struct {
		gogc string
		// the GC percent: exactly want, or at least want when atLeast
		want    float64
		atLeast bool
		// the least heap goal, in bytes
		goal float64
	}{
		{"", 200, true, 128 << 20}, // Duro's default: the floor's goal, at least 200 %
		{"150", 150, false, 0},     // the user's choice, untouched
	} {
		t.Setenv("GOGC", tc.gogc)
		p := procStartDuro(t, bin, t.TempDir(), "duro GOGC="+tc.gogc)
		m, ok := procMetrics(p.URL())
		got, found := m["go_gc_gogc_percent"]
		if !ok || !found {
			t.Fatalf("GOGC=%q: no go_gc_gogc_percent on /metrics", tc.gogc)
		}
		if got != tc.want && !(tc.atLeast && got > tc.want) {
			t.Errorf("GOGC=%q: go_gc_gogc_percent = %v, want %v (at least: %v)", tc.gogc, got, tc.want, tc.atLeast)
		}
		if goal := m["go_memstats_next_gc_bytes"]; goal < tc.goal {
			t.Errorf("GOGC=%q: go_memstats_next_gc_bytes = %v, want at least %v", tc.gogc, goal, tc.goal)
		}
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// TestServerStackShrinkSetting checks, on a real `duro serve` process, that
// Duro runs with gcshrinkstackoff=1 added to whatever GODEBUG holds, in the
// process the caller started (it re-executes itself, keeping its pid),
// unless GODEBUG sets it already. The runtime reads GODEBUG from the
// environment at start-up, so the process's environment is what it runs
// with.
func TestServerStackShrinkSetting(t *testing.T) {
	if testing.Short() {
		t.Skip("builds duro and runs it as a child process")
	}
	if runtime.GOOS != "linux" {
		t.Skip("reads the process's environment from /proc")
	}
	bin := procBuildDuro(t)
	for _, tc := range []struct{ godebug, want string }{
		{"", "gcshrinkstackoff=1"},
		{"madvdontneed=1", "madvdontneed=1,gcshrinkstackoff=1"},
		{"gcshrinkstackoff=0", "gcshrinkstackoff=0"},
	} {
		t.Setenv("GODEBUG", tc.godebug)
		p := procStartDuro(t, bin, t.TempDir(), "duro GODEBUG="+tc.godebug)
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", p.cmd.Process.Pid))
		if err != nil {
			t.Fatalf("GODEBUG=%q: %v", tc.godebug, err)
		}
		got, found := "", false
		for _, kv := range strings.Split(string(raw), "\x00") {
			if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok {
				got, found = v, true
			}
		}
		if !found || got != tc.want {
			t.Errorf("GODEBUG=%q: the server runs with GODEBUG=%q (set: %v), want %q", tc.godebug, got, found, tc.want)
		}
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}
