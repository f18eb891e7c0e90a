package e2e

import "testing"

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
