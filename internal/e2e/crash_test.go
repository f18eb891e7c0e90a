package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/duro-run/duro/internal/durable"
)

// Shape of the crash test's workload.
const (
	crashPerKind   = 20                   // executions of each kind
	crashLoopSteps = 300                  // steps of a loop execution
	crashStepDelay = 5 * time.Millisecond // run time of a loop step's body
	crashDowntime  = time.Second          // between SIGKILL and restart
)

// crashBodies counts step-body runs per execution ARN and step name, so that
// a test can tell a replayed step (body not run) from a re-executed one.
type crashBodies struct {
	mu   sync.Mutex
	runs map[string]int
}

func newCrashBodies() *crashBodies { return &crashBodies{runs: map[string]int{}} }

// step is durable.Context.Step with its body counted.
func (b *crashBodies) step(c *durable.Context, name string, fn func() (any, error)) (json.RawMessage, error) {
	arn := c.ExecutionArn()
	return c.Step(name, func() (any, error) {
		b.mu.Lock()
		b.runs[arn+"|"+name]++
		b.mu.Unlock()
		return fn()
	})
}

func (b *crashBodies) count(arn, name string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.runs[arn+"|"+name]
}

// crashEventFor is the history event an acknowledged update must have left.
var crashEventFor = map[[2]string]types.EventType{
	{"STEP", "START"}:           types.EventTypeStepStarted,
	{"STEP", "SUCCEED"}:         types.EventTypeStepSucceeded,
	{"STEP", "FAIL"}:            types.EventTypeStepFailed,
	{"WAIT", "START"}:           types.EventTypeWaitStarted,
	{"CALLBACK", "START"}:       types.EventTypeCallbackStarted,
	{"CONTEXT", "START"}:        types.EventTypeContextStarted,
	{"CONTEXT", "SUCCEED"}:      types.EventTypeContextSucceeded,
	{"CONTEXT", "FAIL"}:         types.EventTypeContextFailed,
	{"CHAINED_INVOKE", "START"}: types.EventTypeChainedInvokeStarted,
}

// crashExec is one execution of the crash test.
type crashExec struct {
	kind string // "loop", "wait" or "callback"
	i    int
	arn  string
	wait int32 // wait seconds (kind "wait")
}

// TestCrashSIGKILLRecovery kills a `duro serve` child process with SIGKILL
// while executions wait on timers and callbacks and while checkpoints are in
// flight, restarts it on the same data directory, and checks that every
// acknowledged checkpoint survived (its history event exists, written
// before the kill, and the step body never ran again), that no timer was
// lost, and that every execution finishes with a well-formed history.
//
// The functions are remote (DURO_INVOKE_URL) and served by the test, so they
// outlive the server; their SDK client follows the server to its new port.
func TestCrashSIGKILLRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds duro and crashes it as a child process; skipped with -short")
	}
	t.Parallel()
	bin := procBuildDuro(t)
	dataDir := t.TempDir()
	remote := newRemoteFunctions(t)
	ep := &swapEndpoint{}
	rec := newAckRecorder()
	fnClient := swapClient(ep, rec) // used by the functions: checkpoints recorded
	api := swapClient(ep, nil)      // used by the test

	first := procStartDuro(t, bin, dataDir, "duro (before the crash)")
	gen1 := ep.set(first.addr)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	bodies := newCrashBodies()
	type params struct {
		I    int   `json:"i"`
		Wait int32 `json:"wait"`
	}
	loopFn := func(c *durable.Context, in json.RawMessage) (any, error) {
		var p params
		if err := json.Unmarshal(in, &p); err != nil {
			return nil, err
		}
		sum := 0
		for k := range crashLoopSteps {
			r, err := bodies.step(c, fmt.Sprintf("s%03d", k), func() (any, error) {
				time.Sleep(crashStepDelay)
				return k, nil
			})
			if err != nil {
				return nil, err
			}
			var v int
			if err := json.Unmarshal(r, &v); err != nil {
				return nil, err
			}
			sum += v
		}
		return map[string]any{"i": p.I, "sum": sum}, nil
	}
	waitFn := func(c *durable.Context, in json.RawMessage) (any, error) {
		var p params
		if err := json.Unmarshal(in, &p); err != nil {
			return nil, err
		}
		for k := 1; k <= 3; k++ {
			if _, err := bodies.step(c, fmt.Sprintf("before-%d", k), func() (any, error) { return k, nil }); err != nil {
				return nil, err
			}
		}
		if err := c.Wait("pause", p.Wait); err != nil {
			return nil, err
		}
		if _, err := bodies.step(c, "after", func() (any, error) { return "done", nil }); err != nil {
			return nil, err
		}
		return map[string]any{"i": p.I, "waited": p.Wait}, nil
	}
	callbackFn := func(c *durable.Context, in json.RawMessage) (any, error) {
		var p params
		if err := json.Unmarshal(in, &p); err != nil {
			return nil, err
		}
		if _, err := bodies.step(c, "prepare", func() (any, error) { return p.I, nil }); err != nil {
			return nil, err
		}
		_, wait := c.Callback("approval", 0, 0)
		res, err := wait()
		if err != nil {
			return nil, err
		}
		if _, err := bodies.step(c, "finish", func() (any, error) { return "finished", nil }); err != nil {
			return nil, err
		}
		return map[string]any{"i": p.I, "approval": res}, nil
	}
	createRemoteFunction(t, ctx, api, "crash-loop", remote.serve("crash-loop", fnClient, loopFn), 60)
	createRemoteFunction(t, ctx, api, "crash-wait", remote.serve("crash-wait", fnClient, waitFn), 30)
	createRemoteFunction(t, ctx, api, "crash-callback", remote.serve("crash-callback", fnClient, callbackFn), 30)

	// Loops first, so that they are well under way when the waits and
	// callbacks are in position.
	var execs []*crashExec
	for _, kind := range []string{"loop", "wait", "callback"} {
		for i := range crashPerKind {
			x := &crashExec{kind: kind, i: i}
			if kind == "wait" {
				x.wait = 2 + int32(i%3) // 2..4 s: most waits span the crash
			}
			payload, _ := json.Marshal(params{I: i, Wait: x.wait})
			x.arn = procStart(t, ctx, api, "crash-"+kind, fmt.Sprintf("%s-%02d", kind, i), string(payload))
			execs = append(execs, x)
		}
	}

	// Kill once every wait and callback has been acknowledged, every loop
	// is well under way, and checkpoints are in flight.
	ready := func() (bool, string) {
		var waits, callbacks, loops, loopsDone int
		for _, x := range execs {
			switch x.kind {
			case "wait":
				if rec.count(x.arn, "WAIT", "START", gen1) > 0 {
					waits++
				}
			case "callback":
				if rec.count(x.arn, "CALLBACK", "START", gen1) > 0 {
					callbacks++
				}
			case "loop":
				n := rec.count(x.arn, "STEP", "SUCCEED", gen1)
				if n >= 5 {
					loops++
				}
				if n == crashLoopSteps {
					loopsDone++
				}
			}
		}
		inFlight := rec.inFlight.Load()
		status := fmt.Sprintf("waits started %d/%d, callbacks started %d/%d, loops under way %d/%d (finished %d), checkpoints in flight %d",
			waits, crashPerKind, callbacks, crashPerKind, loops, crashPerKind, loopsDone, inFlight)
		return waits == crashPerKind && callbacks == crashPerKind && loops == crashPerKind && inFlight > 0, status
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, status := ready()
		if ok {
			t.Logf("killing: %s", status)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("workload not in position after 30s: %s", status)
		}
		time.Sleep(5 * time.Millisecond)
	}
	first.kill()
	killTime := time.Now()
	time.Sleep(crashDowntime) // the server is down; some waits fall due meanwhile

	// Everything generation 1 acknowledged has been recorded by now. Take
	// the record before the restart, so that nothing the new server
	// answers can be mistaken for it.
	ackedBefore, _ := rec.snapshot()
	nAcked, unfinishedLoops := 0, map[string]bool{}
	for _, x := range execs {
		for _, u := range ackedBefore[x.arn] {
			if u.Gen == gen1 {
				nAcked++
			}
		}
		if x.kind == "loop" && countAcked(ackedBefore[x.arn], "STEP", "SUCCEED", gen1) < crashLoopSteps {
			unfinishedLoops[x.arn] = true
		}
	}
	t.Logf("killed with SIGKILL: %d acknowledged updates, %d loops mid-run", nAcked, len(unfinishedLoops))
	if len(unfinishedLoops) == 0 {
		t.Errorf("every loop had finished at the kill; the test did not crash the server mid-checkpoint")
	}

	second := procStartDuro(t, bin, dataDir, "duro (after the restart)")
	ep.set(second.addr)
	t.Logf("restarted on %s (was %s)", second.addr, first.addr)

	// 1. Every checkpoint acknowledged before the kill is in the history,
	// with an event written before the kill.
	reported := 0
	checkAcked := func(x *crashExec, events []types.Event) {
		t.Helper()
		var missing []string
		for _, u := range ackedBefore[x.arn] {
			if u.Gen != gen1 {
				continue
			}
			want, ok := crashEventFor[[2]string{u.Type, u.Action}]
			if !ok {
				continue
			}
			found := false
			for _, ev := range events {
				if ev.EventType == want && aws.ToString(ev.Id) == u.Id && ev.EventTimestamp != nil && !ev.EventTimestamp.After(killTime) {
					found = true
					break
				}
			}
			if !found {
				missing = append(missing, fmt.Sprintf("%s %s of %s (%s) → no %s", u.Type, u.Action, u.Id, u.Name, want))
			}
		}
		if len(missing) == 0 {
			return
		}
		if reported++; reported > 5 {
			t.Errorf("%s: %d acknowledged updates lost (details omitted)", x.arn, len(missing))
			return
		}
		t.Errorf("%s: %d updates acknowledged before the kill have no event from before the kill, e.g.\n  %s\nhistory:\n%s",
			x.arn, len(missing), strings.Join(missing[:min(len(missing), 5)], "\n  "), procDump(events))
	}
	for _, x := range execs {
		events, err := procHistory(ctx, api, x.arn)
		if err != nil {
			t.Fatalf("GetDurableExecutionHistory(%s) after restart: %v", x.arn, err)
		}
		checkAcked(x, events)
	}
	if t.Failed() {
		t.FailNow()
	}

	// 2. Complete the callbacks through the restarted server.
	for _, x := range execs {
		if x.kind != "callback" {
			continue
		}
		events, err := procHistory(ctx, api, x.arn)
		if err != nil {
			t.Fatal(err)
		}
		var callbackID string
		for _, ev := range events {
			if ev.EventType == types.EventTypeCallbackStarted && ev.CallbackStartedDetails != nil {
				callbackID = aws.ToString(ev.CallbackStartedDetails.CallbackId)
			}
		}
		if callbackID == "" {
			t.Fatalf("%s: no CallbackStarted with a CallbackId after restart\n%s", x.arn, procDump(events))
		}
		if _, err := api.SendDurableExecutionCallbackSuccess(ctx, &lambda.SendDurableExecutionCallbackSuccessInput{
			CallbackId: aws.String(callbackID), Result: fmt.Appendf(nil, `{"approved":%d}`, x.i),
		}); err != nil {
			t.Fatalf("%s: SendDurableExecutionCallbackSuccess after restart: %v", x.arn, err)
		}
	}

	// 3. Every execution finishes.
	arns := make([]string, len(execs))
	for i, x := range execs {
		arns[i] = x.arn
	}
	actx, acancel := context.WithTimeout(ctx, 45*time.Second)
	defer acancel()
	final, err := procAwaitTerminal(actx, api, arns)
	if err != nil {
		var stuck []string
		for _, x := range execs {
			if d := final[x.arn]; d == nil || d.Status == types.ExecutionStatusRunning {
				stuck = append(stuck, x.arn)
			}
		}
		sort.Strings(stuck)
		msg := ""
		if len(stuck) > 0 {
			if events, herr := procHistory(ctx, api, stuck[0]); herr == nil {
				msg = "history of " + stuck[0] + ":\n" + procDump(events)
			}
		}
		t.Fatalf("after restart: %v\nstuck: %v\n%s", err, stuck, msg)
	}

	// 4. Outcomes, histories, timers and exactly-once step bodies.
	lostInvocations := 0
	for _, x := range execs {
		d := final[x.arn]
		events, err := procHistory(ctx, api, x.arn)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != types.ExecutionStatusSucceeded {
			t.Errorf("%s ended %s (%s), want SUCCEEDED\n%s", x.arn, d.Status, procErrString(d.Error), procDump(events))
			continue
		}
		for _, msg := range procCheckWellFormed(events, types.EventTypeExecutionSucceeded) {
			t.Errorf("%s: %s\n%s", x.arn, msg, procDump(events))
		}
		if msg := remote.checkInvocationCount(events, x.arn, 1); msg != "" {
			t.Errorf("%s: %s\n%s", x.arn, msg, procDump(events))
		}
		checkAcked(x, events)

		var want string
		switch x.kind {
		case "loop":
			want = fmt.Sprintf(`{"i":%d,"sum":%d}`, x.i, crashLoopSteps*(crashLoopSteps-1)/2)
		case "wait":
			want = fmt.Sprintf(`{"i":%d,"waited":%d}`, x.i, x.wait)
		case "callback":
			want = fmt.Sprintf(`{"approval":{"approved":%d},"i":%d}`, x.i, x.i)
		}
		if got := aws.ToString(d.Result); got != want {
			t.Errorf("%s: Result = %s, want %s", x.arn, got, want)
		}

		// Each step succeeded exactly once; a step acknowledged before the
		// kill never ran again.
		succeeded := map[string]int{}
		for _, ev := range eventsOfType(events, types.EventTypeStepSucceeded) {
			succeeded[aws.ToString(ev.Name)]++
		}
		for name, n := range succeeded {
			if n != 1 {
				t.Errorf("%s: step %s has %d StepSucceeded events, want 1", x.arn, name, n)
			}
			if bodies.count(x.arn, name) < 1 {
				t.Errorf("%s: step %s succeeded but its body never ran", x.arn, name)
			}
		}
		wantSteps := map[string]int{"loop": crashLoopSteps, "wait": 4, "callback": 2}[x.kind]
		if len(succeeded) != wantSteps {
			t.Errorf("%s: %d distinct steps succeeded, want %d", x.arn, len(succeeded), wantSteps)
		}
		for _, u := range ackedBefore[x.arn] {
			if u.Gen == gen1 && u.Type == "STEP" && u.Action == "SUCCEED" {
				if n := bodies.count(x.arn, u.Name); n != 1 {
					t.Errorf("%s: step %s was acknowledged before the kill but its body ran %d times", x.arn, u.Name, n)
				}
			}
		}

		// Invocations cut off by the kill are closed with an error.
		for _, ev := range eventsOfType(events, types.EventTypeInvocationCompleted) {
			if d := ev.InvocationCompletedDetails; d != nil && d.Error != nil && ev.EventTimestamp != nil && ev.EventTimestamp.After(killTime) {
				lostInvocations++
				break
			}
		}
		if unfinishedLoops[x.arn] && !hasFailedInvocationAfter(events, killTime) {
			t.Errorf("%s was mid-invocation at the kill, but no InvocationCompleted with an Error follows it\n%s", x.arn, procDump(events))
		}

		switch x.kind {
		case "wait":
			started := eventsOfType(events, types.EventTypeWaitStarted)
			fired := eventsOfType(events, types.EventTypeWaitSucceeded)
			if len(started) != 1 || len(fired) != 1 || aws.ToString(fired[0].Id) != aws.ToString(started[0].Id) {
				t.Errorf("%s: want one WaitStarted and one WaitSucceeded of the same operation\n%s", x.arn, procDump(events))
				break
			}
			if sd := started[0].WaitStartedDetails; sd == nil || sd.ScheduledEndTimestamp == nil ||
				fired[0].EventTimestamp.Before(sd.ScheduledEndTimestamp.Add(-time.Millisecond)) {
				t.Errorf("%s: WaitSucceeded at %v, before the scheduled end %+v", x.arn, fired[0].EventTimestamp, sd)
			}
		case "callback":
			cs := eventsOfType(events, types.EventTypeCallbackSucceeded)
			want := fmt.Sprintf(`{"approved":%d}`, x.i)
			if len(cs) != 1 || cs[0].CallbackSucceededDetails == nil || cs[0].CallbackSucceededDetails.Result == nil ||
				aws.ToString(cs[0].CallbackSucceededDetails.Result.Payload) != want {
				t.Errorf("%s: want one CallbackSucceeded with result %s\n%s", x.arn, want, procDump(events))
			}
		}
	}
	_, total := rec.snapshot()
	t.Logf("all %d executions SUCCEEDED after the restart; %d checkpoints acknowledged in all; %d executions had an invocation cut off by the kill",
		len(execs), total, lostInvocations)
}

// TestSIGTERMShutdownAndResume sends SIGTERM to a `duro serve` child while
// executions wait on a timer and one is in the middle of an invocation: the
// server must exit with status 0, and after a restart on the same data
// directory every execution resumes and finishes (the interrupted
// invocation is closed with an error and re-invoked).
func TestSIGTERMShutdownAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds duro and runs it as a child process; skipped with -short")
	}
	t.Parallel()
	bin := procBuildDuro(t)
	dataDir := t.TempDir()
	remote := newRemoteFunctions(t)
	ep := &swapEndpoint{}
	rec := newAckRecorder()
	fnClient := swapClient(ep, rec)
	api := swapClient(ep, nil)

	first := procStartDuro(t, bin, dataDir, "duro (before SIGTERM)")
	gen1 := ep.set(first.addr)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	bodies := newCrashBodies()
	release := make(chan struct{})
	entered := make(chan string, 16)
	waitFn := func(c *durable.Context, _ json.RawMessage) (any, error) {
		if _, err := bodies.step(c, "before", func() (any, error) { return 1, nil }); err != nil {
			return nil, err
		}
		if err := c.Wait("pause", 2); err != nil {
			return nil, err
		}
		if _, err := bodies.step(c, "after", func() (any, error) { return 2, nil }); err != nil {
			return nil, err
		}
		return "resumed", nil
	}
	busyFn := func(c *durable.Context, _ json.RawMessage) (any, error) {
		r, err := bodies.step(c, "hold", func() (any, error) {
			select {
			case entered <- c.ExecutionArn():
			default:
			}
			select {
			case <-release:
				return "held", nil
			case <-c.Context().Done():
				return nil, c.Context().Err()
			}
		})
		if err != nil {
			return nil, err
		}
		return r, nil
	}
	createRemoteFunction(t, ctx, api, "term-wait", remote.serve("term-wait", fnClient, waitFn), 30)
	createRemoteFunction(t, ctx, api, "term-busy", remote.serve("term-busy", fnClient, busyFn), 60)

	var waits []string
	for i := range 3 {
		waits = append(waits, procStart(t, ctx, api, "term-wait", fmt.Sprintf("wait-%d", i), `{}`))
	}
	busy := procStart(t, ctx, api, "term-busy", "busy", `{}`)

	select {
	case <-entered:
	case <-time.After(20 * time.Second):
		t.Fatal("the busy function's step never started")
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, arn := range waits {
		for rec.count(arn, "WAIT", "START", gen1) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s: WAIT START not acknowledged within 20s", arn)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	start := time.Now()
	if code := first.terminate(20 * time.Second); code != 0 {
		t.Fatalf("duro exited with status %d after SIGTERM, want 0", code)
	}
	t.Logf("SIGTERM: clean exit in %v", time.Since(start).Round(time.Millisecond))

	second := procStartDuro(t, bin, dataDir, "duro (after SIGTERM)")
	ep.set(second.addr)
	close(release)

	all := append(append([]string(nil), waits...), busy)
	actx, acancel := context.WithTimeout(ctx, 30*time.Second)
	defer acancel()
	final, err := procAwaitTerminal(actx, api, all)
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	for _, arn := range all {
		d := final[arn]
		events, err := procHistory(ctx, api, arn)
		if err != nil {
			t.Fatal(err)
		}
		want := `"resumed"`
		if arn == busy {
			want = `"held"`
		}
		if d.Status != types.ExecutionStatusSucceeded || aws.ToString(d.Result) != want {
			t.Errorf("%s: %s with result %s (%s), want SUCCEEDED with %s\n%s", arn, d.Status, aws.ToString(d.Result), procErrString(d.Error), want, procDump(events))
			continue
		}
		for _, msg := range procCheckWellFormed(events, types.EventTypeExecutionSucceeded) {
			t.Errorf("%s: %s\n%s", arn, msg, procDump(events))
		}
		if msg := remote.checkInvocationCount(events, arn, 1); msg != "" {
			t.Errorf("%s: %s\n%s", arn, msg, procDump(events))
		}
		if arn == busy {
			if !hasFailedInvocationAfter(events, start) {
				t.Errorf("%s: the invocation interrupted by SIGTERM is not closed with an error\n%s", arn, procDump(events))
			}
		} else if len(eventsOfType(events, types.EventTypeWaitSucceeded)) != 1 {
			t.Errorf("%s: want one WaitSucceeded\n%s", arn, procDump(events))
		}
		if n := bodies.count(arn, "before"); arn != busy && n != 1 {
			t.Errorf("%s: step before ran %d times, want 1", arn, n)
		}
	}
}

// hasFailedInvocationAfter reports whether an InvocationCompleted with an
// Error was written after t.
func hasFailedInvocationAfter(events []types.Event, t time.Time) bool {
	for _, ev := range events {
		if ev.EventType == types.EventTypeInvocationCompleted && ev.InvocationCompletedDetails != nil &&
			ev.InvocationCompletedDetails.Error != nil && ev.EventTimestamp != nil && ev.EventTimestamp.After(t) {
			return true
		}
	}
	return false
}

// eventsOfType returns the events of one type.
func eventsOfType(events []types.Event, typ types.EventType) []types.Event {
	var out []types.Event
	for _, ev := range events {
		if ev.EventType == typ {
			out = append(out, ev)
		}
	}
	return out
}

// procErrString renders an ErrorObject.
func procErrString(e *types.ErrorObject) string {
	if e == nil {
		return "no error"
	}
	return strings.TrimSpace(aws.ToString(e.ErrorType) + ": " + aws.ToString(e.ErrorMessage))
}
