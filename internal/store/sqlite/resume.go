package sqlite

import (
	"runtime"
	"runtime/metrics"
	"sync/atomic"
)

// States of a commitRequest's hand-over.
const (
	requestWaiting int32 = iota
	requestAnswered
	requestAbandoned
)

// resumeGate lets the committer wait, after answering a batch, until every
// caller it answered has run again. The committer opens one per batch.
//
// The committer is the store's one serial stage, and the callers it
// answers become runnable on its own P. Running the next batch at once
// kept them waiting through that batch's statements and, when the other P
// was busy, its fsync; the committer then waited for a P itself when the
// fsync returned (busy 93 % of the time at 80 % of the maximum load).
// Yielding with runtime.Gosched let them run first but put the committer
// at the back of the global run queue, behind the network's goroutines
// too: it spent 18 % of its time there, p50 0.37 ms a batch. With the gate
// the last caller to resume wakes the committer, which puts it next in
// line on that caller's P: 2.7 % of its time, p50 0.05 ms.
//
// The wait is only worth it when the callers would otherwise queue for a
// CPU: see schedulerIdle.
type resumeGate struct {
	// pending counts the answered callers that have not resumed, plus one
	// held by the committer from open until wait or release, so that it
	// reaches zero once, after the last answer.
	pending atomic.Int64
	// wake carries that zero to the committer: whoever brings pending to
	// zero while the committer waits sends one token.
	wake chan struct{}
}

// openResumeGate starts a batch's answers.
func openResumeGate() *resumeGate {
	g := &resumeGate{wake: make(chan struct{}, 1)}
	g.pending.Store(1)
	return g
}

// answer hands err to req's caller, counting the caller unless it has
// already given up (it then never reads the answer).
func (g *resumeGate) answer(req *commitRequest, err error) {
	// Set before the state changes: a caller that gives up after the
	// change finds here the gate that counted it.
	req.gate = g
	// Counted before the state changes: a caller that gives up just after
	// the change calls resumed, which must find itself counted.
	g.pending.Add(1)
	if !req.state.CompareAndSwap(requestWaiting, requestAnswered) {
		g.pending.Add(-1) // the committer's hold keeps this above zero
	}
	req.res <- err
}

// abandon is called by a caller that stops waiting for its answer.
func (req *commitRequest) abandon() {
	if !req.state.CompareAndSwap(requestWaiting, requestAbandoned) {
		req.gate.resumed() // answered first, so counted
	}
}

// resumed is called by a caller that has its answer.
func (g *resumeGate) resumed() {
	if g.pending.Add(-1) == 0 {
		g.wake <- struct{}{}
	}
}

// wait drops the committer's hold and, unless every answered caller has
// already resumed, waits for the last one. Every answered caller resumes:
// it is blocked on its answer or on its context, and both ways out call
// resumed.
func (g *resumeGate) wait() {
	if g.pending.Add(-1) != 0 {
		<-g.wake
	}
}

// release drops the committer's hold without waiting: the callers resume
// on their own, and the last one leaves its token in a channel nobody
// reads again.
func (g *resumeGate) release() { g.pending.Add(-1) }

// runnableMetric counts the goroutines waiting for a CPU.
const runnableMetric = "/sched/goroutines/runnable:goroutines"

// schedulerIdle reports, just before the committer answers a batch, that no
// goroutine is waiting for a CPU (and there is more than one P): the
// callers about to be woken will find an idle P, so the committer need not
// wait for them to resume and can take the next batch at once. Under load
// other goroutines are queued and the committer waits as before: skipping
// the wait then (on a queue length alone) let callers and the load
// generator starve and made runs collapse (bench/README.md, ninth
// session). sample is the caller's, so that reading allocates nothing;
// when the runtime does not know the metric, the answer is no.
func schedulerIdle(sample []metrics.Sample) bool {
	if runtime.GOMAXPROCS(0) < 2 {
		return false
	}
	metrics.Read(sample)
	v := sample[0].Value
	return v.Kind() == metrics.KindUint64 && v.Uint64() == 0
}
