package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// stepDone is a STEP START+SUCCEED pair, the SDKs' usual batch.
func stepDone(id, name, payload string) []types.OperationUpdate {
	start := upd(id, types.OperationTypeStep, types.OperationActionStart)
	start.SubType, start.Name = aws.String("Step"), optString(name)
	done := upd(id, types.OperationTypeStep, types.OperationActionSucceed)
	done.SubType, done.Name, done.Payload = aws.String("Step"), optString(name), aws.String(payload)
	return []types.OperationUpdate{start, done}
}

func TestEnvelope(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	invocations := e.controlledFunction("envelope", nil)
	before := time.Now().Add(-time.Second).UnixMilli()
	arn := e.start("envelope", latest, "env-1", `{"hello":"world"}`)
	inv := next(t, invocations)
	defer inv.finish(`{"Status":"SUCCEEDED"}`)
	if inv.Arn != arn || inv.Token == "" {
		t.Fatalf("envelope ARN %q token %q; want %q and a token", inv.Arn, inv.Token, arn)
	}
	var envl map[string]json.RawMessage
	if err := json.Unmarshal(inv.Raw, &envl); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"DurableExecutionArn", "CheckpointToken", "InitialExecutionState", "UpdatedOperationIds"} {
		if _, ok := envl[k]; !ok {
			t.Errorf("envelope lacks %s: %s", k, inv.Raw)
		}
	}
	if bytes.Contains(inv.Raw, []byte("null")) {
		t.Errorf("envelope contains null: %s", inv.Raw)
	}
	if len(inv.Ops) != 1 {
		t.Fatalf("first envelope has %d operations, want only the EXECUTION: %s", len(inv.Ops), inv.Raw)
	}
	var op struct {
		Id, Type, Status string
		StartTimestamp   json.Number
		ExecutionDetails struct{ InputPayload string }
	}
	if err := json.Unmarshal(inv.Ops[0], &op); err != nil {
		t.Fatal(err)
	}
	ms, err := op.StartTimestamp.Int64()
	if op.Type != "EXECUTION" || op.Status != "STARTED" || op.Id != arn[strings.LastIndex(arn, "/")+1:] || op.ExecutionDetails.InputPayload != `{"hello":"world"}` {
		t.Errorf("EXECUTION operation = %s", inv.Ops[0])
	}
	if err != nil || ms < before || ms > time.Now().Add(time.Second).UnixMilli() {
		t.Errorf("StartTimestamp %s is not integer epoch milliseconds of now", op.StartTimestamp)
	}
}

func TestTokenFencing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	invocations := e.controlledFunction("fenced", nil)
	arn := e.start("fenced", latest, "", `{}`)
	inv := next(t, invocations)
	arn2 := e.start("fenced", latest, "", `{"other":1}`)
	inv2 := next(t, invocations)
	if inv2.Arn != arn2 {
		inv, inv2 = inv2, inv
	}

	// Accepted checkpoint, then a ClientToken retry: byte-identical answer.
	body := fmt.Sprintf(`{"CheckpointToken":%q,"ClientToken":"retry-me-1","Updates":[`+
		`{"Id":"a","Type":"STEP","SubType":"Step","Action":"START"},`+
		`{"Id":"a","Type":"STEP","SubType":"Step","Action":"SUCCEED","Payload":"\"A\""}]}`, inv.Token)
	path := "/2025-12-01/durable-executions/" + seg(arn) + "/checkpoint"
	hdr := map[string]string{"Content-Type": "application/json"}
	first := e.rawCall(http.MethodPost, path, []byte(body), hdr)
	if first.status != http.StatusOK {
		t.Fatalf("checkpoint: %d %s", first.status, first.body)
	}
	var resp struct {
		CheckpointToken   string
		NewExecutionState struct{ Operations []struct{ Id, Status string } }
	}
	if err := json.Unmarshal(first.body, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.CheckpointToken == "" || resp.CheckpointToken == inv.Token {
		t.Fatalf("checkpoint returned token %q (old %q); want a fresh one", resp.CheckpointToken, inv.Token)
	}
	if len(resp.NewExecutionState.Operations) != 1 || resp.NewExecutionState.Operations[0].Id != "a" || resp.NewExecutionState.Operations[0].Status != "SUCCEEDED" {
		t.Errorf("delta = %+v, want step a SUCCEEDED", resp.NewExecutionState.Operations)
	}
	events := e.history(arn)
	retry := e.rawCall(http.MethodPost, path, []byte(body), hdr)
	if retry.status != http.StatusOK || !bytes.Equal(retry.body, first.body) {
		t.Errorf("ClientToken retry = %d %s\nwant the identical response %s", retry.status, retry.body, first.body)
	}
	if after := e.history(arn); len(after) != len(events) {
		t.Errorf("the retry was applied again: history %v", eventTypes(after))
	}

	tok1 := resp.CheckpointToken
	stale := []struct {
		name, arn, token, clientToken string
	}{
		{"old token, new ClientToken", arn, inv.Token, "retry-me-2"},
		{"old token, SDK ClientToken", arn, inv.Token, ""},
		{"forged token", arn, "Zm9yZ2VkdG9rZW4=", ""},
		{"altered token", arn, alter(tok1), ""},
		{"token of another execution", arn, inv2.Token, ""},
		{"token used on another execution", arn2, tok1, ""},
	}
	for _, s := range stale {
		t.Run(s.name, func(t *testing.T) {
			_, err := e.checkpoint(s.arn, s.token, s.clientToken, upd("b", types.OperationTypeStep, types.OperationActionStart))
			wantStaleToken(t, err)
			if statusOfErr(err) != http.StatusBadRequest {
				t.Errorf("status %d, want 400", statusOfErr(err))
			}
		})
	}
	_, err := e.client.GetDurableExecutionState(ctx(t), &lambda.GetDurableExecutionStateInput{DurableExecutionArn: aws.String(arn), CheckpointToken: aws.String(inv.Token)})
	wantStaleToken(t, err)
	if after := e.history(arn); len(after) != len(events) {
		t.Errorf("rejected checkpoints changed the history: %v", eventTypes(after))
	}

	// An empty checkpoint is a poll; it still rotates the token.
	poll, err := e.checkpoint(arn, tok1, "")
	if err != nil {
		t.Fatalf("empty checkpoint: %v", err)
	}
	tok2 := aws.ToString(poll.CheckpointToken)
	if tok2 == "" || tok2 == tok1 || len(poll.NewExecutionState.Operations) != 0 {
		t.Errorf("empty checkpoint = token %q (was %q), %d operations; want a new token and an empty delta", tok2, tok1, len(poll.NewExecutionState.Operations))
	}
	_, err = e.checkpoint(arn, tok1, "", upd("b", types.OperationTypeStep, types.OperationActionStart))
	wantStaleToken(t, err)

	// A new invocation fences the previous one's tokens.
	w := upd("w", types.OperationTypeWait, types.OperationActionStart)
	w.WaitOptions = &types.WaitOptions{WaitSeconds: aws.Int32(1)}
	cp, err := e.checkpoint(arn, tok2, "", w)
	if err != nil {
		t.Fatalf("WAIT START: %v", err)
	}
	tok3 := aws.ToString(cp.CheckpointToken)
	inv.finish(`{"Status":"PENDING"}`)
	resumed := next(t, invocations)
	if resumed.Arn != arn {
		t.Fatalf("re-invocation of %s, want %s", resumed.Arn, arn)
	}
	if resumed.Token == tok3 {
		t.Error("re-invocation reuses the previous invocation's token")
	}
	_, err = e.checkpoint(arn, tok3, "", upd("b", types.OperationTypeStep, types.OperationActionStart))
	wantStaleToken(t, err)
	if !bytes.Contains(resumed.Raw, []byte(`"Id":"w"`)) || !bytes.Contains(resumed.Raw, []byte(`"SUCCEEDED"`)) || !bytes.Contains(resumed.Raw, []byte(`"UpdatedOperationIds":["w"]`)) {
		t.Errorf("re-invocation envelope lacks the completed wait: %s", resumed.Raw)
	}
	if _, err := e.checkpoint(arn, resumed.Token, "", stepDone("c", "", `"C"`)...); err != nil {
		t.Fatalf("checkpoint with the new invocation's token: %v", err)
	}
	resumed.finish(`{"Status":"SUCCEEDED","Result":"\"fenced-ok\""}`)
	d := e.awaitStatus(arn, types.ExecutionStatusSucceeded)
	if aws.ToString(d.Result) != `"fenced-ok"` {
		t.Errorf("result = %q", aws.ToString(d.Result))
	}
	// After the end, every token is stale.
	_, err = e.checkpoint(arn, resumed.Token, "", upd("z", types.OperationTypeStep, types.OperationActionStart))
	wantStaleToken(t, err)
	checkHistory(t, e.history(arn), 2)

	inv2.finish(`{"Status":"SUCCEEDED"}`)
	e.awaitStatus(arn2, types.ExecutionStatusSucceeded)
}

// alter flips one character of a token inside its signature.
func alter(tok string) string {
	b := []byte(tok)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestCheckpointValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	invocations := e.controlledFunction("validated", nil)
	arn := e.start("validated", latest, "", `{}`)
	inv := next(t, invocations)
	ctxStart := upd("ctx", types.OperationTypeContext, types.OperationActionStart)
	ctxStart.SubType = aws.String("RunInChildContext")
	cp, err := e.checkpoint(arn, inv.Token, "", append(stepDone("s1", "first", `1`), ctxStart)...)
	if err != nil {
		t.Fatalf("setup checkpoint: %v", err)
	}
	tok := aws.ToString(cp.CheckpointToken)
	events := e.history(arn)

	with := func(u types.OperationUpdate, f func(*types.OperationUpdate)) types.OperationUpdate { f(&u); return u }
	wait := with(upd("w", types.OperationTypeWait, types.OperationActionStart), func(u *types.OperationUpdate) {
		u.WaitOptions = &types.WaitOptions{WaitSeconds: aws.Int32(5)}
	})
	cases := []struct {
		name    string
		updates []types.OperationUpdate
	}{
		{"SUCCEED a WAIT", []types.OperationUpdate{upd("w", types.OperationTypeWait, types.OperationActionSucceed)}},
		{"RETRY a CONTEXT", []types.OperationUpdate{upd("ctx", types.OperationTypeContext, types.OperationActionRetry)}},
		{"WAIT START without WaitOptions", []types.OperationUpdate{upd("w", types.OperationTypeWait, types.OperationActionStart)}},
		{"duplicate WAIT START", []types.OperationUpdate{wait, wait}},
		{"duplicate SUCCEED", []types.OperationUpdate{
			with(upd("x", types.OperationTypeStep, types.OperationActionSucceed), func(u *types.OperationUpdate) { u.Payload = aws.String("1") }),
			with(upd("x", types.OperationTypeStep, types.OperationActionSucceed), func(u *types.OperationUpdate) { u.Payload = aws.String("2") }),
		}},
		{"START after SUCCEED in one batch", append(stepDone("y", "", "1"), upd("y", types.OperationTypeStep, types.OperationActionStart))},
		{"unknown ParentId", []types.OperationUpdate{with(upd("p", types.OperationTypeStep, types.OperationActionStart), func(u *types.OperationUpdate) { u.ParentId = aws.String("nope") })}},
		{"ParentId naming a STEP", []types.OperationUpdate{with(upd("p", types.OperationTypeStep, types.OperationActionStart), func(u *types.OperationUpdate) { u.ParentId = aws.String("s1") })}},
		{"EXECUTION not last", []types.OperationUpdate{
			with(upd("e", types.OperationTypeExecution, types.OperationActionSucceed), func(u *types.OperationUpdate) { u.Payload = aws.String("1") }),
			upd("q", types.OperationTypeStep, types.OperationActionStart),
		}},
		{"two EXECUTION updates", []types.OperationUpdate{
			upd("e1", types.OperationTypeExecution, types.OperationActionFail),
			upd("e2", types.OperationTypeExecution, types.OperationActionFail),
		}},
		{"RETRY without StepOptions", []types.OperationUpdate{upd("r", types.OperationTypeStep, types.OperationActionRetry)}},
		{"FAIL with Payload", []types.OperationUpdate{with(upd("f", types.OperationTypeStep, types.OperationActionFail), func(u *types.OperationUpdate) { u.Payload = aws.String("1") })}},
		{"SUCCEED with Error", []types.OperationUpdate{with(upd("f", types.OperationTypeStep, types.OperationActionSucceed), func(u *types.OperationUpdate) {
			u.Error = &types.ErrorObject{ErrorMessage: aws.String("x")}
		})}},
		{"START a SUCCEEDED step", []types.OperationUpdate{upd("s1", types.OperationTypeStep, types.OperationActionStart)}},
		{"SUCCEED a SUCCEEDED step", []types.OperationUpdate{upd("s1", types.OperationTypeStep, types.OperationActionSucceed)}},
		{"type changed", []types.OperationUpdate{upd("s1", types.OperationTypeContext, types.OperationActionSucceed)}},
		{"name changed", []types.OperationUpdate{with(upd("ctx", types.OperationTypeContext, types.OperationActionSucceed), func(u *types.OperationUpdate) { u.Name = aws.String("renamed") })}},
		{"second CONTEXT START", []types.OperationUpdate{upd("ctx", types.OperationTypeContext, types.OperationActionStart)}},
		{"CANCEL an unknown WAIT", []types.OperationUpdate{upd("nowait", types.OperationTypeWait, types.OperationActionCancel)}},
		{"valid update beside an invalid one", []types.OperationUpdate{wait, upd("w", types.OperationTypeWait, types.OperationActionSucceed)}},
		{"unknown operation type", []types.OperationUpdate{upd("u", types.OperationType("BOGUS"), types.OperationActionStart)}},
		{"WaitSeconds out of range", []types.OperationUpdate{with(upd("w0", types.OperationTypeWait, types.OperationActionStart), func(u *types.OperationUpdate) {
			u.WaitOptions = &types.WaitOptions{WaitSeconds: aws.Int32(0)}
		})}},
		{"operation id pattern", []types.OperationUpdate{upd("bad id!", types.OperationTypeStep, types.OperationActionStart)}},
		{"oversized step payload", []types.OperationUpdate{with(upd("big", types.OperationTypeStep, types.OperationActionSucceed), func(u *types.OperationUpdate) {
			u.Payload = aws.String(`"` + strings.Repeat("x", 262_144) + `"`)
		})}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.checkpoint(arn, tok, "", tc.updates...)
			if err == nil {
				tok = aws.ToString(out.CheckpointToken) // keep the other cases meaningful
				t.Fatalf("invalid batch accepted; delta %+v", out.NewExecutionState.Operations)
			}
			ipv := apiErr[*types.InvalidParameterValueException](t, err)
			if strings.HasPrefix(ipv.ErrorMessage(), "Invalid Checkpoint Token") {
				t.Errorf("validation error reported as a stale token (the SDKs would retry the invocation forever): %q", ipv.ErrorMessage())
			}
			if ipv.ErrorMessage() == "" {
				t.Error("empty message")
			}
		})
	}

	// Nothing was applied, and the token is still the current one.
	if after := e.history(arn); !sameStrings(eventTypes(after), eventTypes(events)) {
		t.Errorf("rejected batches changed the history:\n got %v\nwant %v", eventTypes(after), eventTypes(events))
	}
	st, err := e.client.GetDurableExecutionState(ctx(t), &lambda.GetDurableExecutionStateInput{DurableExecutionArn: aws.String(arn), CheckpointToken: aws.String(tok)})
	if err != nil {
		t.Fatalf("GetDurableExecutionState with the unchanged token: %v", err)
	}
	var ids []string
	for _, op := range st.Operations {
		ids = append(ids, aws.ToString(op.Id))
	}
	if len(ids) != 3 || ids[1] != "s1" || ids[2] != "ctx" {
		t.Errorf("operations after rejected batches = %v, want [<execution> s1 ctx]", ids)
	}
	// A START+SUCCEED pair, and a child STARTed with its parent in the same
	// batch, are fine.
	child := with(upd("k", types.OperationTypeContext, types.OperationActionStart), func(u *types.OperationUpdate) {})
	grandchild := with(upd("k-1", types.OperationTypeStep, types.OperationActionStart), func(u *types.OperationUpdate) { u.ParentId = aws.String("k") })
	if _, err := e.checkpoint(arn, tok, "", child, grandchild); err != nil {
		t.Fatalf("valid checkpoint after the rejected ones: %v", err)
	}
	inv.finish(`{"Status":"SUCCEEDED"}`)
	e.awaitStatus(arn, types.ExecutionStatusSucceeded)
}

func TestGetDurableExecutionStatePaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	invocations := e.controlledFunction("stateful", nil)
	arn := e.start("stateful", latest, "", `{}`)
	inv := next(t, invocations)
	var ups []types.OperationUpdate
	for _, id := range []string{"s1", "s2", "s3"} {
		ups = append(ups, stepDone(id, "", `"`+id+`"`)...)
	}
	// A closed context hides its children; one closed with ReplayChildren
	// keeps them visible (protocol.md §1.2.3, §5.7).
	ctxUpd := func(id string, action types.OperationAction, replay bool) types.OperationUpdate {
		u := upd(id, types.OperationTypeContext, action)
		if replay {
			u.ContextOptions = &types.ContextOptions{ReplayChildren: aws.Bool(true)}
		}
		if action == types.OperationActionSucceed {
			u.Payload = aws.String(`""`)
		}
		return u
	}
	childOf := func(parent string) []types.OperationUpdate {
		s := stepDone(parent+"-1", "", "1")
		for i := range s {
			s[i].ParentId = aws.String(parent)
		}
		return s
	}
	ups = append(ups, ctxUpd("hidden", types.OperationActionStart, false))
	ups = append(ups, childOf("hidden")...)
	ups = append(ups, ctxUpd("hidden", types.OperationActionSucceed, false), ctxUpd("replayed", types.OperationActionStart, false))
	ups = append(ups, childOf("replayed")...)
	ups = append(ups, ctxUpd("replayed", types.OperationActionSucceed, true))
	cp, err := e.checkpoint(arn, inv.Token, "", ups...)
	if err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	tok := aws.ToString(cp.CheckpointToken)
	execID := arn[strings.LastIndex(arn, "/")+1:]
	want := []string{execID, "s1", "s2", "s3", "hidden", "replayed", "replayed-1"}

	for _, size := range []int32{0, 1, 2, 1000} {
		t.Run(fmt.Sprintf("MaxItems=%d", size), func(t *testing.T) {
			var ids []string
			pages := 0
			p := lambda.NewGetDurableExecutionStatePaginator(e.client, &lambda.GetDurableExecutionStateInput{
				DurableExecutionArn: aws.String(arn), CheckpointToken: aws.String(tok), MaxItems: size})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx(t))
				if err != nil {
					t.Fatalf("GetDurableExecutionState page %d: %v", pages+1, err)
				}
				pages++
				if size > 0 && len(page.Operations) > int(size) {
					t.Errorf("page of %d operations with MaxItems %d", len(page.Operations), size)
				}
				if last := !p.HasMorePages(); last != (aws.ToString(page.NextMarker) == "") {
					t.Errorf("page %d: NextMarker %q", pages, aws.ToString(page.NextMarker))
				}
				for _, op := range page.Operations {
					ids = append(ids, aws.ToString(op.Id))
				}
			}
			if !sameStrings(ids, want) {
				t.Errorf("operations = %v, want %v (start order, closed context's children hidden)", ids, want)
			}
			wantPages := 1
			if size > 0 && int(size) < len(want) {
				wantPages = (len(want) + int(size) - 1) / int(size)
			}
			if pages != wantPages {
				t.Errorf("%d pages, want %d", pages, wantPages)
			}
		})
	}
	_, err = e.client.GetDurableExecutionState(ctx(t), &lambda.GetDurableExecutionStateInput{DurableExecutionArn: aws.String(arn), CheckpointToken: aws.String(tok), MaxItems: 1001})
	apiErr[*types.InvalidParameterValueException](t, err)
	inv.finish(`{"Status":"SUCCEEDED"}`)
	e.awaitStatus(arn, types.ExecutionStatusSucceeded)
}

// Within one batch, the second update of an operation (START then a close)
// must agree with the first on Name, SubType and ParentId, as an update of
// an existing operation must (§5.2): the batch is rejected as a whole.
func TestCheckpointValidationWithinBatch(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		first, then func(*types.OperationUpdate)
	}{
		{"name", func(u *types.OperationUpdate) { u.Name = aws.String("a") }, func(u *types.OperationUpdate) { u.Name = aws.String("b") }},
		{"subtype", func(u *types.OperationUpdate) { u.SubType = aws.String("Step") }, func(u *types.OperationUpdate) { u.SubType = aws.String("WaitForCondition") }},
		{"parent", func(u *types.OperationUpdate) {}, func(u *types.OperationUpdate) { u.ParentId = aws.String("ctx") }},
	}
	e := newEnv(t)
	invocations := e.controlledFunction("batch-consistency", nil)
	arn := e.start("batch-consistency", latest, "", `{}`)
	inv := next(t, invocations)
	cp, err := e.checkpoint(arn, inv.Token, "", upd("ctx", types.OperationTypeContext, types.OperationActionStart))
	if err != nil {
		t.Fatal(err)
	}
	tok := aws.ToString(cp.CheckpointToken)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := upd("op-"+tc.name, types.OperationTypeStep, types.OperationActionStart)
			tc.first(&start)
			done := upd("op-"+tc.name, types.OperationTypeStep, types.OperationActionSucceed)
			done.Payload = aws.String("1")
			tc.first(&done)
			tc.then(&done)
			out, err := e.checkpoint(arn, tok, "", start, done)
			if err == nil {
				tok = aws.ToString(out.CheckpointToken)
				var stored string
				for _, op := range out.NewExecutionState.Operations {
					stored += fmt.Sprintf("%s name=%q subtype=%q parent=%q; ", aws.ToString(op.Id), aws.ToString(op.Name), aws.ToString(op.SubType), aws.ToString(op.ParentId))
				}
				t.Fatalf("START and SUCCEED disagreeing on the %s were accepted (SUCCEED's value silently dropped); stored: %s", tc.name, stored)
			}
			ipv := apiErr[*types.InvalidParameterValueException](t, err)
			if strings.HasPrefix(ipv.ErrorMessage(), "Invalid Checkpoint Token") {
				t.Errorf("reported as a stale token: %q", ipv.ErrorMessage())
			}
		})
	}
	inv.finish(`{"Status":"SUCCEEDED"}`)
	e.awaitStatus(arn, types.ExecutionStatusSucceeded)
}
