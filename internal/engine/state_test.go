package engine

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestExecutionInputSource checks where an execution's input is read
// from: the EXECUTION operation, or, for an execution recorded by an older
// version without it there, the execution's own record.
func TestExecutionInputSource(t *testing.T) {
	inOp, inRecord := "from-op", "from-record"
	withOp := func(s *execState) {
		s.ops[s.row.ID] = &opRecord{Operation: Operation{Id: s.row.ID, Type: OpExecution,
			ExecutionDetails: &ExecutionDetails{InputPayload: &inOp}}}
	}
	for _, tc := range []struct {
		name   string
		record bool
		op     bool
		want   string
	}{
		{"operation only (this version)", false, true, inOp},
		{"both (an older version's record)", true, true, inOp},
		{"record only", true, false, inRecord},
		{"neither", false, false, ""},
	} {
		s := &execState{ops: map[string]*opRecord{}}
		s.row.ID = "e1"
		if tc.record {
			s.data.Input = &inRecord
		}
		if tc.op {
			withOp(s)
		}
		got := ""
		if p := s.input(); p != nil {
			got = *p
		}
		if got != tc.want {
			t.Errorf("%s: input %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestCompleteDueTimers checks that a checkpoint completes the waits and
// readies the retries that are due, in start order, both on a state just
// loaded and on one kept between checkpoints, whatever happened to the
// other operations meanwhile.
func TestCompleteDueTimers(t *testing.T) {
	now := time.Unix(1000, 0)
	past, future := Timestamp(now.Add(-time.Second)), Timestamp(now.Add(time.Hour))
	wait := func(id string, end Timestamp) *opRecord {
		return &opRecord{Operation: Operation{Id: id, Type: OpWait, Status: OpStarted, WaitDetails: &WaitDetails{ScheduledEndTimestamp: &end}}}
	}
	retry := func(id string, at Timestamp) *opRecord {
		return &opRecord{Operation: Operation{Id: id, Type: OpStep, Status: OpPending, StepDetails: &StepDetails{NextAttemptTimestamp: &at}}}
	}
	done := &opRecord{Operation: Operation{Id: "done", Type: OpStep, Status: OpSucceeded, StepDetails: &StepDetails{}}}
	s := stateWith(done, wait("w-due", past), wait("w-later", future), retry("r-due", past), retry("r-later", future), wait("w-due-2", past))
	for i, op := range s.order {
		op.Seq = int64(i + 1)
	}
	s.data.NextOpSeq = int64(len(s.order))
	e := &Engine{}

	e.completeDueTimers(s, now)
	statuses := func() map[string]string {
		out := map[string]string{}
		for id, op := range s.ops {
			out[id] = op.Status
		}
		return out
	}
	want := map[string]string{"done": OpSucceeded, "w-due": OpSucceeded, "w-later": OpStarted, "r-due": OpReady,
		"r-later": OpPending, "w-due-2": OpSucceeded}
	if got := statuses(); !maps.Equal(got, want) {
		t.Fatalf("after the first checkpoint: %v, want %v", got, want)
	}
	var ids []string
	for _, ev := range s.events {
		ids = append(ids, ev.Id)
	}
	if !slices.Equal(ids, []string{"w-due", "w-due-2"}) {
		t.Fatalf("events for %v, want w-due then w-due-2 (start order)", ids)
	}

	// The state is kept: a later checkpoint starts a wait that is already
	// due, and time passes for the others.
	s.reset()
	s.addOp(wait("w-new", past))
	e.completeDueTimers(s, now.Add(2*time.Hour))
	want["w-new"], want["w-later"], want["r-later"] = OpSucceeded, OpSucceeded, OpReady
	if got := statuses(); !maps.Equal(got, want) {
		t.Fatalf("after the second checkpoint: %v, want %v", got, want)
	}
	if len(s.timed) != 0 {
		t.Errorf("%d operations still tracked as waiting for a time", len(s.timed))
	}
}

// TestChangedOpsAgreesWithScan runs random touches, new operations and
// deliveries on a state and checks, after each, that the changes tracked
// since the last delivery are exactly the operations a scan finds changed
// (ChangeSeq > DeliveredSeq), in start order; as on a state loaded with
// undelivered changes, tracking starts only at the first delivery.
func TestChangedOpsAgreesWithScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := &execState{ops: map[string]*opRecord{}}
	s.reset()
	for i := range 5 {
		s.addOp(&opRecord{Operation: Operation{Id: fmt.Sprint("op", i), Type: OpStep}})
	}
	scan := func() []*opRecord {
		var out []*opRecord
		for _, op := range s.order {
			if op.ChangeSeq > s.data.DeliveredSeq {
				out = append(out, op)
			}
		}
		return out
	}
	for step := range 2000 {
		switch r := rng.IntN(10); {
		case r < 6:
			s.touch(s.order[rng.IntN(len(s.order))])
		case r < 8:
			s.addOp(&opRecord{Operation: Operation{Id: fmt.Sprint("op", len(s.order)), Type: OpStep}})
		default:
			s.delivered()
		}
		if got, want := s.changedOps(), scan(); !slices.Equal(got, want) {
			t.Fatalf("step %d: changedOps %d operations, scan %d", step, len(got), len(want))
		}
	}
	if !s.changedKnown {
		t.Fatal("changes never tracked")
	}
}
