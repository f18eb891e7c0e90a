package e2e

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
)

// TestServerGCTarget checks, on a real `duro serve` process, that Duro
// runs Go's garbage collector at its own target unless GOGC chooses one:
// the process reports the target it runs with as go_gc_gogc_percent on
// /metrics.
func TestServerGCTarget(t *testing.T) {
	if testing.Short() {
		t.Skip("builds duro and runs it as a child process")
	}
	bin := procBuildDuro(t)
	for _, tc := range []struct {
		gogc string
		want float64
	}{
		{"", 200}, // Duro's default (cmd/duro defaultGCPercent)
		{"150", 150},
	} {
		t.Setenv("GOGC", tc.gogc)
		p := procStartDuro(t, bin, t.TempDir(), "duro GOGC="+tc.gogc)
		m, ok := procMetrics(p.URL())
		got, found := m["go_gc_gogc_percent"]
		if !ok || !found {
			t.Fatalf("GOGC=%q: no go_gc_gogc_percent on /metrics", tc.gogc)
		}
		if got != tc.want {
			t.Errorf("GOGC=%q: go_gc_gogc_percent = %v, want %v", tc.gogc, got, tc.want)
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
