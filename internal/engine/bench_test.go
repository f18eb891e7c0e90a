package engine

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// Benchmarks of the checkpoint hot path's CPU work, without the store:
// validation, history-event encoding, and the encoding of a mutation (the
// execution row's data, the changed operations and the new events), for
// an execution shaped like the bench's steps scenario.

// benchPayload is a 100-byte step result, JSON-encoded.
var benchPayload = strconv.Quote(strings.Repeat("x", 98))

// benchState returns a running execution with an invocation in flight and
// n succeeded steps, as the cache holds it between checkpoints.
func benchState(n int) *execState {
	now := time.Now()
	input := `{"n":1}`
	s := &execState{ops: map[string]*opRecord{}}
	s.row.ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
	s.row.ARN = "arn:aws:lambda:us-east-1:123456789012:function:bench:$LATEST/durable-execution/" + s.row.ID + "/" + s.row.ID
	s.row.Status = StatusRunning
	s.data = execData{FunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:bench:$LATEST",
		InputHash: strings.Repeat("ab", 32), ExecutionTimeout: 3600, RetentionDays: 1, InvocationID: "8c7f0aac-97c4-4a2f-b716-a675d821ccc0",
		InvocationStart: now, TokenSeq: 3}
	s.reset()
	s.addOp(&opRecord{Operation: Operation{Id: s.row.ID, Type: OpExecution, Status: OpStarted, StartTimestamp: Timestamp(now),
		ExecutionDetails: &ExecutionDetails{InputPayload: &input}}})
	for i := 1; i <= n; i++ {
		p := benchPayload
		s.addOp(&opRecord{Operation: Operation{Id: "s" + strconv.Itoa(i), Name: "step", Type: OpStep, SubType: "Step", Status: OpSucceeded,
			StartTimestamp: Timestamp(now), EndTimestamp: TimestampPtr(now), StepDetails: &StepDetails{Attempt: 1, Result: &p}}})
	}
	s.data.DeliveredSeq = s.data.ChangeSeq
	// The previous checkpoint, kept for ClientToken retries.
	s.data.LastCheckpoint = &dedupEntry{Seq: 2, ClientToken: "8d0c7a4e-1f7e-4b44-a0f4-3c3f2b1e9a11", Issued: true, Ops: []string{"s" + strconv.Itoa(n)}}
	s.reset()
	return s
}

// stepUpdates is one step's [START, SUCCEED], as the JS SDK sends it.
func stepUpdates(id string) []OperationUpdate {
	name, sub, p := "step", "Step", benchPayload
	return []OperationUpdate{
		{Id: id, Name: &name, Type: OpStep, SubType: &sub, Action: ActionStart},
		{Id: id, Type: OpStep, SubType: &sub, Action: ActionSucceed, Payload: &p},
	}
}

func BenchmarkValidateUpdates(b *testing.B) {
	s := benchState(9)
	u := stepUpdates("s10")
	b.ReportAllocs()
	for b.Loop() {
		if err := validateUpdates(s, u); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEventEncoding(b *testing.B) {
	p := benchPayload
	ev := Event{EventType: "StepSucceeded", SubType: "Step", EventId: 42, Id: "s10", Name: "step", EventTimestamp: Timestamp(time.Now()),
		StepSucceededDetails: &StepResultDetails{Result: EventResult{Payload: &p}, RetryDetails: RetryDetails{CurrentAttempt: 1}}}
	b.ReportAllocs()
	for b.Loop() {
		ev.appendJSON(make([]byte, 0, 384))
	}
}

// BenchmarkCheckpointCPU is the engine's whole in-memory work for one
// step checkpoint: validate, apply, compute the delta, encode the response
// and the mutation (everything Checkpoint does but the store commit and
// HTTP).
func BenchmarkCheckpointCPU(b *testing.B) {
	e := &Engine{sign: newSigner([]byte("0123456789abcdef0123456789abcdef")), now: time.Now}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		s := benchState(9)
		u := stepUpdates("s10")
		in := CheckpointInput{CheckpointToken: e.sign.checkpointToken(s.row.ID, s.data.TokenSeq), Updates: u}
		b.StartTimer()
		out, err := e.applyCheckpoint(s, &in, s.data.TokenSeq)
		if err != nil {
			b.Fatal(err)
		}
		// The API layer encodes the response.
		out.AppendJSON(nil)
		if _, err := s.mutation(false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMutationEncoding encodes the mutation of one step checkpoint:
// the execution row's data, one operation, two events.
func BenchmarkMutationEncoding(b *testing.B) {
	s := benchState(9)
	now := time.Now()
	u := stepUpdates("s10")
	e := &Engine{now: time.Now}
	for i := range u {
		e.applyUpdate(s, now, &u[i])
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.mutation(false); err != nil {
			b.Fatal(err)
		}
	}
}
