package bench

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/engine"
)

// serverCheckpointResponses are checkpoint responses as Duro writes them
// (the engine's own encoder), with an operation of every kind the player
// meets and the members it skips.
func serverCheckpointResponses(t testing.TB) [][]byte {
	str := func(s string) *string { return &s }
	now := time.Unix(1795716348, 571000000)
	end := engine.NewTimestamp(now.Add(time.Second))
	boolean := true
	ops := []engine.Operation{
		{Id: "exec", Type: "EXECUTION", StartTimestamp: engine.NewTimestamp(now), Status: "STARTED",
			ExecutionDetails: &engine.ExecutionDetails{InputPayload: str(`{"n":1}`)}},
		{Id: "c4ca4238a0b92382", Name: "step", Type: "STEP", SubType: "Step", StartTimestamp: engine.NewTimestamp(now),
			EndTimestamp: &end, Status: "SUCCEEDED", StepDetails: &engine.StepDetails{Attempt: 1, Result: str(`"é\n\"x\""`)}},
		{Id: "w1", ParentId: "p", Type: "WAIT", StartTimestamp: engine.NewTimestamp(now), Status: "STARTED",
			WaitDetails: &engine.WaitDetails{ScheduledEndTimestamp: &end}},
		{Id: "cb", Type: "CALLBACK", StartTimestamp: engine.NewTimestamp(now), Status: "STARTED",
			CallbackDetails: &engine.CallbackDetails{CallbackId: str("Y2FsbGJhY2s=")}},
		{Id: "ctx", Type: "CONTEXT", SubType: "Parallel", StartTimestamp: engine.NewTimestamp(now), Status: "STARTED",
			ContextDetails: &engine.ContextDetails{ReplayChildren: &boolean}},
		{Id: "failed", Type: "STEP", StartTimestamp: engine.NewTimestamp(now), Status: "FAILED",
			StepDetails: &engine.StepDetails{Attempt: 3, Error: &engine.ErrorObject{ErrorType: str("E"), StackTrace: []string{"a", "b"}}}},
	}
	var docs [][]byte
	for _, out := range []engine.CheckpointOutput{
		{CheckpointToken: str("dG9rZW4="), NewExecutionState: engine.ExecutionState{Operations: ops}},
		{CheckpointToken: str("dG9rZW4="), NewExecutionState: engine.ExecutionState{Operations: ops[1:2], NextMarker: "m"}},
		{NewExecutionState: engine.ExecutionState{Operations: []engine.Operation{}}},
	} {
		docs = append(docs, out.AppendJSON(nil))
		b, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, b)
	}
	return docs
}

var decodeCorpus = []string{
	`{}`, `null`, `[]`, `{"CheckpointToken":null,"NewExecutionState":null}`,
	`{"NewExecutionState":{"Operations":null,"NextMarker":null}}`,
	`{"NewExecutionState":{"Operations":[null]}}`,
	`{"NewExecutionState":{"Operations":[{"Id":"a","StepDetails":null,"WaitDetails":{"ScheduledEndTimestamp":1.795716e9},"CallbackDetails":{}}]}}`,
	`{"NewExecutionState":{"Operations":[{"WaitDetails":{"ScheduledEndTimestamp":"soon"}}]}}`,
	`{"NewExecutionState":{"Operations":[{"Id":7}]}}`,
	`{"checkpointToken":"case"}`, `{"NewExecutionState":{"operations":[]}}`,
	`{"NewExecutionState":{"Operations":[{"id":"x"}]}}`,
	`{"NewExecutionState":{"Operations":[{"StepDetails":{"result":"x"}}]}}`,
	`{"CheckpointToken":"a","CheckpointToken":"b"}`,
	`{"CheckpointToken":"a"} x`,
	`{"DurableExecutionArn":"arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST/durable-execution/n/id","CheckpointToken":"t",` +
		`"InitialExecutionState":{"Operations":[{"Id":"exec","Type":"EXECUTION","Status":"STARTED","StartTimestamp":1795716348571,` +
		`"ExecutionDetails":{"InputPayload":"{}"}}],"NextMarker":""},"UpdatedOperationIds":["w1"]}`,
	`{"DurableExecutionArn":null,"UpdatedOperationIds":null}`, `{"UpdatedOperationIds":[null]}`, `{"UpdatedOperationIds":[]}`,
	`{"durableExecutionArn":"case"}`,
}

// TestFastDecodersAgree checks that whatever the load generator's fast
// decoders accept decodes to what encoding/json gives, and that they
// accept every checkpoint response Duro's encoder writes.
func TestFastDecodersAgree(t *testing.T) {
	for _, b := range serverCheckpointResponses(t) {
		if _, ok := decodeCheckpointResponse(b); !ok {
			t.Errorf("gave up on a server response: %s", b)
		}
		checkDecoders(t, b)
	}
	for _, s := range decodeCorpus {
		checkDecoders(t, []byte(s))
	}
	env := []byte(decodeCorpus[len(decodeCorpus)-5])
	if _, ok := decodeEnvelope(env); !ok {
		t.Errorf("gave up on an envelope: %s", env)
	}
}

func checkDecoders(t *testing.T, b []byte) {
	t.Helper()
	agrees(t, b, "a checkpoint response", decodeCheckpointResponse)
	agrees(t, b, "an envelope", decodeEnvelope)
}

// agrees checks that if decode accepts b, encoding/json decodes it too, to
// the same value.
func agrees[T any](t *testing.T, b []byte, what string, decode func([]byte) (T, bool)) {
	t.Helper()
	got, ok := decode(b)
	if !ok {
		return
	}
	var want T
	if err := json.Unmarshal(b, &want); err != nil {
		t.Errorf("%s: accepted as %s, encoding/json fails: %v", b, what, err)
	} else if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: decoded %+v, encoding/json %+v", b, got, want)
	}
}

// FuzzFastDecoders checks the same on arbitrary input.
func FuzzFastDecoders(f *testing.F) {
	for _, b := range serverCheckpointResponses(f) {
		f.Add(b)
	}
	for _, s := range decodeCorpus {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkDecoders(t, b) })
}

// TestCheckpointRequestJSON: the load generator's hand-written encoding of
// a checkpoint request is what encoding/json writes (HTML escaping off),
// for every field of an update, set and unset.
func TestCheckpointRequestJSON(t *testing.T) {
	payload := `"<b>&\u2028 \"quoted\""`
	for _, r := range []checkpointRequest{
		{CheckpointToken: "tok", ClientToken: "c1"},
		{CheckpointToken: "tok", ClientToken: "c1", Updates: []update{}},
		{CheckpointToken: "t\"ok", ClientToken: "c2", Updates: []update{
			{Id: "s1", Name: "step", Type: opStep, SubType: "Step", Action: actStart},
			{Id: "s1", ParentId: "p", Type: opStep, SubType: "Step", Action: actSucceed, Payload: &payload},
			{Id: "w", Type: opWait, Action: actStart, WaitOptions: &waitOptions{WaitSeconds: 5}},
			{Id: "w0", Type: opWait, Action: actStart, WaitOptions: &waitOptions{}},
			{Id: "c", Type: opCallback, Action: actStart, CallbackOptions: &callbackOptions{TimeoutSeconds: 30}},
			{Id: "c0", Type: opCallback, Action: actStart, CallbackOptions: &callbackOptions{}},
		}},
	} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
		if got := r.appendJSON(nil); string(got) != strings.TrimSuffix(want.String(), "\n") {
			t.Errorf("appendJSON:\n got %s\nwant %s", got, want.Bytes())
		}
	}
}
