package heapfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name               string
		live, roots, floor uint64
		minPercent         int
		want               int
	}{
		{"nothing measured yet: the floor's largest percent", 0, 0, 128 * mib, 200, 3200},
		{"small heap: the goal is the floor", 13 * mib, 2 * mib, 128 * mib, 200, 766},
		{"tiny heap: capped where the runtime's minimum goal reaches the floor", 1 * mib, 0, 128 * mib, 200, 3200},
		{"heap near the floor: the minimum percent", 60 * mib, 1 * mib, 128 * mib, 200, 200},
		{"heap above the floor: the minimum percent", 300 * mib, 1 * mib, 128 * mib, 200, 200},
		{"floor below the minimum's own reach", 1 * mib, 0, 4 * mib, 200, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percent(tc.live, tc.roots, tc.floor, tc.minPercent); got != tc.want {
				t.Errorf("percent(%d, %d, %d, %d) = %d, want %d", tc.live, tc.roots, tc.floor, tc.minPercent, got, tc.want)
			}
		})
	}
}

// readGC returns the runtime's GC percent and heap goal.
func readGC() (percent, goal uint64) {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/heap/goal:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}

// waitGC runs collections until ok holds for the runtime's GC percent and
// heap goal (the tuner adjusts them shortly after a collection, from the
// runtime's cleanup goroutine), or fails after a while.
func waitGC(t *testing.T, what string, ok func(percent, goal uint64) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
		p, g := readGC()
		if ok(p, g) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: GC percent %d, heap goal %d MiB", what, p, g>>20)
		}
	}
}

// TestTuner checks on the real runtime that the heap goal is the floor
// while the live heap is small, that a live heap near the floor gets the
// minimum percent, and that Stop restores the percent it found.
func TestTuner(t *testing.T) {
	const floor = 96 << 20
	before := debug.SetGCPercent(150)
	defer debug.SetGCPercent(before)

	tu := Start(floor, 100)
	waitGC(t, "small heap", func(_, goal uint64) bool {
		return goal >= floor*95/100 && goal <= floor*105/100
	})

	live := make([]byte, 64<<20)
	for i := range live {
		live[i] = 1 // resident and reachable: counted as live
	}
	waitGC(t, "64 MiB live", func(p, goal uint64) bool { return p == 100 && goal >= 128<<20 })
	runtime.KeepAlive(live)

	tu.Stop()
	if p, _ := readGC(); p != 150 {
		t.Errorf("after Stop: GC percent %d, want the 150 it replaced", p)
	}
	runtime.GC()
	time.Sleep(20 * time.Millisecond) // a cleanup armed before Stop may still run
	if p, _ := readGC(); p != 150 {
		t.Errorf("a collection after Stop: GC percent %d, want 150", p)
	}
}
