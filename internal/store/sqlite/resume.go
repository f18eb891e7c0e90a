package sqlite

import "sync/atomic"

// States of a commitRequest's hand-over.
const (
	requestWaiting int32 = iota
	requestAnswered
	requestAbandoned
)

// resumeGate lets the committer wait, after answering a batch, until every
// caller it answered has run again.
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
type resumeGate struct {
	// pending counts the answered callers that have not resumed, plus one
	// held by the committer from open until wait, so that it reaches zero
	// once per batch, after the last answer.
	pending atomic.Int64
	// wake carries that zero to the committer: whoever brings pending to
	// zero while the committer waits sends one token.
	wake chan struct{}
}

func newResumeGate() resumeGate {
	return resumeGate{wake: make(chan struct{}, 1)}
}

// open starts a batch's answers.
func (g *resumeGate) open() { g.pending.Store(1) }

// answer hands err to req's caller, counting the caller unless it has
// already given up (it then never reads the answer).
func (g *resumeGate) answer(req *commitRequest, err error) {
	// Counted before the state changes: a caller that gives up just after
	// the change calls resumed, which must find itself counted.
	g.pending.Add(1)
	if !req.state.CompareAndSwap(requestWaiting, requestAnswered) {
		g.pending.Add(-1) // the committer's hold keeps this above zero
	}
	req.res <- err
}

// abandon is called by a caller that stops waiting for its answer.
func (g *resumeGate) abandon(req *commitRequest) {
	if !req.state.CompareAndSwap(requestWaiting, requestAbandoned) {
		g.resumed() // answered first, so counted
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
