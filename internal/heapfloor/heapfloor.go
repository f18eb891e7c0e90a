// Package heapfloor keeps the Go garbage collector's heap goal at or above
// a floor while the live heap is small, and at a fixed GC percent above it.
//
// A server whose live heap is a few megabytes but which allocates a little
// for every request collects very often under a GC percent alone: Duro's
// server, 13 MB live at 8,500 checkpoints/s, ran a collection every 140 ms,
// and each collection's mark phase takes a quarter of the CPUs for 5-15 ms
// on a two-core machine, a disturbance the request queue then takes tens of
// milliseconds to absorb. A heap goal of at least a floor (say 128 MiB)
// makes collections several times rarer at that heap, while a large live
// heap still gets the usual proportional goal (a fixed high GC percent
// would multiply it). GOMEMLIMIT, when set, still caps the goal: the
// runtime takes the lower of the two.
package heapfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// heapMinimumPerPercent is the runtime's minimum heap goal per unit of GC
// percent (4 MiB at 100 %; runtime/mgcpacer.go, defaultHeapMinimum). A
// high percent raises that minimum too, which bounds the percent this
// package may set: above floor/heapMinimumPerPercent the minimum alone
// would exceed the floor.
const heapMinimumPerPercent = (4 << 20) / 100

// Tuner adjusts the GC percent after every collection. Its zero value is
// not usable; see Start.
type Tuner struct {
	floor      uint64
	minPercent int

	mu      sync.Mutex
	stopped bool
	before  int // the GC percent Start replaced, restored by Stop
	sample  []metrics.Sample
}

// sentinel is the object whose collection tells the tuner that a GC cycle
// has ended. It is larger than 16 bytes so that it is not a tiny
// allocation, which may share a block with a live object and never be
// collected.
type sentinel struct{ _ [4]uint64 }

// Start sets the GC percent so that the heap goal is at least floor bytes
// and the GC percent at least minPercent, and keeps it so after every
// collection until Stop.
func Start(floor uint64, minPercent int) *Tuner {
	t := &Tuner{
		floor:      floor,
		minPercent: minPercent,
		sample: []metrics.Sample{
			{Name: "/gc/heap/live:bytes"},
			{Name: "/gc/scan/stack:bytes"},
			{Name: "/gc/scan/globals:bytes"},
		},
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	// Before the first collection nothing is known about the live heap;
	// the largest percent the floor allows makes the first goal the floor.
	t.before = debug.SetGCPercent(maxPercent(floor, minPercent))
	t.arm()
	return t
}

// Stop ends the adjustments and restores the GC percent Start replaced.
func (t *Tuner) Stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.stopped {
		t.stopped = true
		debug.SetGCPercent(t.before)
	}
}

// arm registers a cleanup that runs once the GC has found a new sentinel
// unreachable, i.e. after the next collection. t.mu is held.
func (t *Tuner) arm() {
	runtime.AddCleanup(new(sentinel), (*Tuner).collected, t)
}

// collected runs after a collection: it sets the percent for the live heap
// that collection measured, and waits for the next one.
func (t *Tuner) collected() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	metrics.Read(t.sample)
	var v [3]uint64
	for i, s := range t.sample {
		if s.Value.Kind() == metrics.KindUint64 {
			v[i] = s.Value.Uint64()
		}
	}
	debug.SetGCPercent(percent(v[0], v[1]+v[2], t.floor, t.minPercent))
	t.arm()
}

// percent returns the GC percent whose heap goal is floor for a heap of
// live bytes whose stacks and globals hold roots bytes, as the runtime
// computes the goal (live + (live+roots)×percent/100), within
// [minPercent, maxPercent].
func percent(live, roots, floor uint64, minPercent int) int {
	hi := maxPercent(floor, minPercent)
	if live+roots == 0 {
		return hi
	}
	if live >= floor {
		return minPercent
	}
	p := (floor - live) * 100 / (live + roots)
	return int(min(max(p, uint64(minPercent)), uint64(hi)))
}

// maxPercent is the largest percent whose minimum heap goal stays within
// floor, and at least minPercent.
func maxPercent(floor uint64, minPercent int) int {
	return max(int(floor/heapMinimumPerPercent), minPercent)
}
