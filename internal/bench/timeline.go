package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	runtimemetrics "runtime/metrics"
	"time"

	"github.com/duro-run/duro/internal/store/sqlite"
)

// timelineWindow is the length of one line of a timeline.
const timelineWindow = 100 * time.Millisecond

// TimelineWindow is one line of the file --timeline writes: what happened
// in one window of the measured run. A run's p99 is mostly made in a few
// such windows (a disk stall, the first seconds on a fresh database:
// bench/README.md, sixteenth session), which the run's totals hide.
type TimelineWindow struct {
	// Seconds is the window's end, from the measured run's start.
	Seconds float64 `json:"t"`
	// Checkpoints counts the checkpoint round trips that ended in the
	// window, and CheckpointLatencyMs is their distribution (a round
	// trip that ends as the windows change may count in the next one).
	Checkpoints         uint64  `json:"checkpoints"`
	CheckpointLatencyMs Summary `json:"checkpoint_latency_ms"`
	// ExecutionsInFlight is how many executions had been started and not
	// ended at the window's end: what a stall piles up.
	ExecutionsInFlight int64 `json:"executions_in_flight"`
	// CPUPct is this process's CPU in the window, in percent of one core:
	// the embedded server's and the load generator's together (the load
	// generator's alone against a remote server). A window near the
	// machine's cores tells a queue for the CPU from a stall elsewhere.
	// Absent where the process's CPU time cannot be read, and for a last
	// window shorter than 10 ms (too short to say).
	CPUPct *float64 `json:"cpu_pct,omitempty"`
	// The embedded server's group committer in the window: transactions
	// committed, the mutations they carried, the share of the window the
	// committer spent in transactions and in their COMMIT (the WAL write
	// and fsync), and a COMMIT's mean time. Absent against a remote
	// server.
	Transactions     *int64   `json:"transactions,omitempty"`
	Mutations        *int64   `json:"mutations,omitempty"`
	CommitterBusyPct *float64 `json:"committer_busy_pct,omitempty"`
	CommitPct        *float64 `json:"commit_pct,omitempty"`
	CommitMeanMs     *float64 `json:"commit_mean_ms,omitempty"`
	// GatePct is the share of the window the committer spent waiting for
	// the callers it had answered to resume, and WALRestartPct the share
	// it spent checkpointing the WAL itself (WALRestarts times) so that
	// the WAL could restart: between transactions, neither is in
	// CommitterBusyPct, and no transaction runs during either.
	GatePct       *float64 `json:"gate_pct,omitempty"`
	WALRestarts   *int64   `json:"wal_restarts,omitempty"`
	WALRestartPct *float64 `json:"wal_restart_pct,omitempty"`
	// GCCycles counts the garbage collections that ended in the window
	// (this process's: the embedded server's and the load generator's).
	GCCycles *uint64 `json:"gc_cycles,omitempty"`
}

// timeline writes a TimelineWindow every timelineWindow until stop. The
// checkpoint latencies of the current window go into one of two
// histograms, which the writer swaps at each window's end.
type timeline struct {
	m      *measurements
	stats  func() sqlite.Stats // nil against a remote server
	f      *os.File
	w      *bufio.Writer
	enc    *json.Encoder
	hists  [2]Histogram
	stop   chan struct{}
	done   chan error
	start  time.Time
	prev   time.Time // the last window's end
	gc     []runtimemetrics.Sample
	last   sqlite.Stats
	lastGC uint64
	// lastCPU is the process's CPU time at the last window's end; cpuOK
	// whether it could be read.
	lastCPU time.Duration
	cpuOK   bool
}

// startTimeline creates path and starts writing m's windows into it; stats,
// when not nil, reads the embedded server's store.
func startTimeline(path string, m *measurements, stats func() sqlite.Stats) (*timeline, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	t := &timeline{m: m, stats: stats, f: f, w: bufio.NewWriter(f), stop: make(chan struct{}), done: make(chan error, 1),
		gc: []runtimemetrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}}
	t.enc = json.NewEncoder(t.w)
	t.lastCPU, err = selfCPU()
	t.cpuOK = err == nil
	t.start = time.Now()
	t.prev = t.start
	t.lastGC = t.gcCycles()
	if stats != nil {
		t.last = stats()
	}
	m.window.Store(&t.hists[0])
	go t.run()
	return t, nil
}

func (t *timeline) gcCycles() uint64 {
	runtimemetrics.Read(t.gc)
	if t.gc[0].Value.Kind() != runtimemetrics.KindUint64 {
		return 0
	}
	return t.gc[0].Value.Uint64()
}

func (t *timeline) run() {
	tick := time.NewTicker(timelineWindow)
	defer tick.Stop()
	cur := 0
	var err error
	for {
		var now time.Time
		stopping := false
		select {
		case now = <-tick.C:
		case <-t.stop:
			now, stopping = time.Now(), true
		}
		// The next window records into the other histogram; this one is
		// read, then cleared for the window after next.
		h := &t.hists[cur]
		cur = 1 - cur
		t.m.window.Store(&t.hists[cur])
		if err == nil {
			err = t.enc.Encode(t.window(now, h))
		}
		h.Reset()
		if stopping {
			t.m.window.Store(nil)
			if ferr := t.w.Flush(); err == nil {
				err = ferr
			}
			if cerr := t.f.Close(); err == nil {
				err = cerr
			}
			t.done <- err
			return
		}
	}
}

// window summarizes the window ending at now, whose latencies h holds.
func (t *timeline) window(now time.Time, h *Histogram) TimelineWindow {
	w := TimelineWindow{
		Seconds:             round3(now.Sub(t.start).Seconds()),
		Checkpoints:         h.Count(),
		CheckpointLatencyMs: h.Summary(),
		ExecutionsInFlight:  t.m.inFlight.Load(),
	}
	span := float64(max(now.Sub(t.prev), time.Microsecond)) // not zero: the last window may end just after a tick
	t.prev = now
	if t.cpuOK {
		if cpu, err := selfCPU(); err == nil {
			if span >= float64(10*time.Millisecond) {
				pct := round3(100 * float64(cpu-t.lastCPU) / span)
				w.CPUPct = &pct
			}
			t.lastCPU = cpu
		}
	}
	gc := t.gcCycles()
	cycles := gc - t.lastGC
	w.GCCycles, t.lastGC = &cycles, gc
	if t.stats == nil {
		return w
	}
	st := t.stats()
	// share is the part of the window the committer's time d took, in
	// percent.
	share := func(d time.Duration) *float64 {
		p := round3(100 * float64(d) / span)
		return &p
	}
	tx, mut, restarts := st.Transactions-t.last.Transactions, st.Commits-t.last.Commits, st.WALRestarts-t.last.WALRestarts
	w.Transactions, w.Mutations, w.WALRestarts = &tx, &mut, &restarts
	w.CommitterBusyPct, w.CommitPct = share(st.Busy-t.last.Busy), share(st.CommitTime-t.last.CommitTime)
	w.GatePct, w.WALRestartPct = share(st.GateWait-t.last.GateWait), share(st.WALRestart-t.last.WALRestart)
	if tx > 0 {
		mean := round3(float64(st.CommitTime-t.last.CommitTime) / float64(tx) / float64(time.Millisecond))
		w.CommitMeanMs = &mean
	}
	t.last = st
	return w
}

// close writes the last window and closes the file.
func (t *timeline) close() error {
	close(t.stop)
	return <-t.done
}

// recordWindow adds a checkpoint's latency to the current timeline
// window, if a timeline is being written.
func (m *measurements) recordWindow(d time.Duration) {
	if h := m.window.Load(); h != nil {
		h.Record(d)
	}
}
