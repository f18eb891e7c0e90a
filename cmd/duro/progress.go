package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Operation states in a progress view, beyond the API's statuses.
const (
	opStarted  = "STARTED"
	opRetrying = "RETRYING"
)

// opProgress is the state of one operation as its history events tell it.
type opProgress struct {
	id, parentID, name string
	// kind is the event-type prefix: Step, Wait, Callback, Context,
	// ChainedInvoke.
	kind       string
	status     string
	start, end *time.Time
	attempts   int
	waitUntil  *time.Time
	callbackID string
	retryAt    *time.Time
	lastError  string
}

// label names the operation for people: `step "charge"`, `wait #3`.
func (o *opProgress) label() string { return opLabel(o.kind, o.name, o.id) }

// open reports whether the operation has not ended.
func (o *opProgress) open() bool { return o.status == opStarted || o.status == opRetrying }

// executionProgress is an execution's progress, rebuilt from its history.
type executionProgress struct {
	arn, name   string
	status      types.ExecutionStatus
	start, end  *time.Time
	invocations int
	errorText   string
	ops         []*opProgress
	byID        map[string]*opProgress
}

// ended reports whether the history has a terminal event.
func (p *executionProgress) ended() bool { return p.status != types.ExecutionStatusRunning }

// buildProgress folds a history (oldest first) into an executionProgress.
func buildProgress(arn string, events []types.Event) *executionProgress {
	p := &executionProgress{arn: arn, status: types.ExecutionStatusRunning, byID: map[string]*opProgress{}}
	for _, ev := range events {
		t := ev.EventTimestamp
		switch ev.EventType {
		case types.EventTypeExecutionStarted:
			p.start, p.name = t, aws.ToString(ev.Name)
			continue
		case types.EventTypeExecutionSucceeded:
			p.status, p.end = types.ExecutionStatusSucceeded, t
			continue
		case types.EventTypeExecutionFailed:
			p.status, p.end = types.ExecutionStatusFailed, t
			if d := ev.ExecutionFailedDetails; d != nil && d.Error != nil {
				p.errorText = fmtError(d.Error.Payload)
			}
			continue
		case types.EventTypeExecutionTimedOut:
			p.status, p.end = types.ExecutionStatusTimedOut, t
			continue
		case types.EventTypeExecutionStopped:
			p.status, p.end = types.ExecutionStatusStopped, t
			continue
		case types.EventTypeInvocationCompleted:
			p.invocations++
			continue
		}
		kind, state := splitEventType(ev.EventType)
		id := aws.ToString(ev.Id)
		op := p.byID[id]
		if op == nil {
			op = &opProgress{id: id, parentID: aws.ToString(ev.ParentId), name: aws.ToString(ev.Name), kind: kind, start: t}
			p.byID[id] = op
			p.ops = append(p.ops, op)
		}
		op.status = state
		if state != opStarted {
			op.end = t
		}
		switch ev.EventType {
		case types.EventTypeStepStarted:
			op.attempts++
			op.retryAt, op.end = nil, nil
		case types.EventTypeStepFailed:
			d := ev.StepFailedDetails
			if d == nil {
				break
			}
			if d.Error != nil {
				op.lastError = fmtError(d.Error.Payload)
			}
			if r := d.RetryDetails; r != nil {
				op.attempts = max(op.attempts, int(r.CurrentAttempt))
				if r.NextAttemptDelaySeconds != nil && t != nil {
					at := t.Add(time.Duration(*r.NextAttemptDelaySeconds) * time.Second)
					op.status, op.retryAt, op.end = opRetrying, &at, nil
				}
			}
		case types.EventTypeWaitStarted:
			if d := ev.WaitStartedDetails; d != nil {
				op.waitUntil = d.ScheduledEndTimestamp
				if op.waitUntil == nil && d.Duration != nil && t != nil {
					at := t.Add(time.Duration(*d.Duration) * time.Second)
					op.waitUntil = &at
				}
			}
		case types.EventTypeCallbackStarted:
			if d := ev.CallbackStartedDetails; d != nil {
				op.callbackID = aws.ToString(d.CallbackId)
			}
		}
	}
	return p
}

// splitEventType splits "StepSucceeded" into the operation kind ("Step")
// and the operation's status after the event ("SUCCEEDED").
func splitEventType(t types.EventType) (kind, status string) {
	s := string(t)
	for _, suffix := range []struct{ name, status string }{
		{"Started", opStarted}, {"Succeeded", "SUCCEEDED"}, {"Failed", "FAILED"},
		{"TimedOut", "TIMED_OUT"}, {"Stopped", "STOPPED"}, {"Cancelled", "CANCELLED"},
	} {
		if k, ok := strings.CutSuffix(s, suffix.name); ok {
			return k, suffix.status
		}
	}
	return s, strings.ToUpper(s)
}

// opLabel names an operation: its kind and its name, or its id when it has
// no name.
func opLabel(kind, name, id string) string {
	word := strings.ToLower(kind)
	if kind == "ChainedInvoke" {
		word = "invoke"
	}
	if name != "" {
		return fmt.Sprintf("%s %q", word, name)
	}
	return word + " #" + id
}

// current is the operation the execution is at: the latest started
// operation still open, preferring operations over the contexts that hold
// them.
func (p *executionProgress) current() *opProgress {
	var ctxOp *opProgress
	for i := len(p.ops) - 1; i >= 0; i-- {
		op := p.ops[i]
		if !op.open() {
			continue
		}
		if op.kind != "Context" {
			return op
		}
		if ctxOp == nil {
			ctxOp = op
		}
	}
	return ctxOp
}

// lines renders the progress as a block of lines for a terminal.
func (p *executionProgress) lines(now time.Time) []string {
	name := p.name
	if name == "" {
		name = executionName(p.arn)
	}
	head := fmt.Sprintf("Execution  %s  %s  %s", name, p.status, runTime(p.start, p.end, now))
	if p.invocations > 0 {
		head += fmt.Sprintf("  (%d invocation%s)", p.invocations, plural(p.invocations))
	}
	out := []string{head}
	if !p.ended() {
		cur := "(the function is running)"
		if op := p.current(); op != nil {
			cur = op.label() + " " + p.opState(op, now)
		}
		out = append(out, "Now        "+cur)
	} else if p.errorText != "" {
		out = append(out, "Error      "+p.errorText)
	}
	var done []string
	steps := 0
	for _, op := range p.ops {
		if op.kind != "Step" {
			continue
		}
		steps++
		switch op.status {
		case "SUCCEEDED":
			done = append(done, op.label()+" ✓")
		case "FAILED":
			done = append(done, op.label()+" ✗")
		}
	}
	out = append(out, fmt.Sprintf("Steps      %d done of %d%s", len(done), steps, listSuffix(done)))
	cur := p.current()
	for _, op := range p.ops {
		if !op.open() {
			continue
		}
		if op == cur && !p.ended() {
			// Shown on the "Now" line; only its completion hint here.
			if op.kind == "Callback" && op.callbackID != "" {
				out = append(out, "           complete it: duro callback succeed "+op.callbackID+" --result '{}'")
			}
			continue
		}
		switch {
		case op.kind == "Wait":
			out = append(out, "Wait       "+op.label()+" "+p.opState(op, now))
		case op.kind == "Callback":
			out = append(out, "Callback   "+op.label()+" "+p.opState(op, now))
			if op.callbackID != "" && !p.ended() {
				out = append(out, "           complete it: duro callback succeed "+op.callbackID+" --result '{}'")
			}
		case op.status == opRetrying:
			out = append(out, "Retry      "+op.label()+" "+p.opState(op, now))
		}
	}
	return out
}

// executionName returns the name segment of an execution ARN
// (…/durable-execution/NAME/ID), or the ARN itself.
func executionName(arn string) string {
	if _, rest, ok := strings.Cut(arn, "/durable-execution/"); ok {
		if name, _, ok := strings.Cut(rest, "/"); ok {
			return name
		}
	}
	return arn
}

// opState describes an open operation: the time a wait has left, a
// callback's id, a step's attempt.
func (p *executionProgress) opState(op *opProgress, now time.Time) string {
	switch {
	case op.kind == "Wait" && op.waitUntil != nil:
		left := op.waitUntil.Sub(now)
		if left < 0 {
			return "due, waking up"
		}
		return fmt.Sprintf("%s left (until %s)", fmtDuration(left), op.waitUntil.Local().Format("15:04:05"))
	case op.kind == "Callback":
		return fmt.Sprintf("pending %s, id %s", elapsed(op.start, now), dash(op.callbackID))
	case op.status == opRetrying && op.retryAt != nil:
		s := fmt.Sprintf("attempt %d failed, retry in %s", op.attempts, fmtDuration(max(op.retryAt.Sub(now), 0)))
		if op.lastError != "" {
			s += ": " + oneLine(op.lastError, 80)
		}
		return s
	case op.kind == "Step":
		return fmt.Sprintf("running (attempt %d, %s)", max(op.attempts, 1), elapsed(op.start, now))
	default:
		return "running " + elapsed(op.start, now)
	}
}

// elapsed formats the time since start ("-" when unknown).
func elapsed(start *time.Time, now time.Time) string {
	if start == nil {
		return "-"
	}
	return fmtDuration(now.Sub(*start))
}

// listSuffix formats ": a, b, c" (or nothing for an empty list).
func listSuffix(items []string) string {
	if len(items) == 0 {
		return ""
	}
	return ": " + strings.Join(items, ", ")
}

// plural returns "s" unless n is 1.
func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// progressView shows an execution's progress: redrawn in place on a
// terminal, one line per new history event otherwise (logs, pipes).
type progressView struct {
	w     io.Writer
	tty   bool
	width int
	// drawn is the number of lines of the last frame (terminal).
	drawn int
	// seen is the number of events already printed (lines mode).
	seen int
	// started reports whether the header line was printed.
	started bool
}

// newProgressView returns a view writing to w; tty selects in-place
// redrawing, with lines cut to width.
func newProgressView(w io.Writer, tty bool, width int) *progressView {
	return &progressView{w: w, tty: tty, width: width}
}

// update shows the progress after a poll.
func (v *progressView) update(p *executionProgress, events []types.Event, now time.Time) {
	if !v.started {
		fmt.Fprintf(v.w, "Following %s\n", p.arn)
		v.started = true
	}
	if !v.tty {
		var base *time.Time
		if len(events) > 0 {
			base = events[0].EventTimestamp
		}
		for _, ev := range events[min(v.seen, len(events)):] {
			fmt.Fprintln(v.w, eventLine(ev, base))
		}
		v.seen = max(v.seen, len(events))
		return
	}
	var b strings.Builder
	if v.drawn > 0 {
		// Back to the first line of the previous frame, and clear below.
		fmt.Fprintf(&b, "\x1b[%dA\r\x1b[J", v.drawn)
	}
	lines := p.lines(now)
	for _, l := range lines {
		b.WriteString(cut(l, v.width-1))
		b.WriteByte('\n')
	}
	v.drawn = len(lines)
	io.WriteString(v.w, b.String())
}

// cut shortens a line to n runes (no limit when n <= 0).
func cut(s string, n int) string {
	if r := []rune(s); n > 0 && len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// eventLine formats one history event as a line: time, offset from the
// start of the execution, type, operation and details.
func eventLine(ev types.Event, base *time.Time) string {
	ts, off := "-", ""
	if t := ev.EventTimestamp; t != nil {
		ts = t.Local().Format("15:04:05.000")
		if base != nil {
			off = "+" + fmtDuration(t.Sub(*base))
		}
	}
	s := fmt.Sprintf("%s %7s  %-22s %s", ts, off, ev.EventType, eventOperation(ev))
	if d := eventDetail(ev, time.Now()); d != "" {
		s += "  " + d
	}
	return strings.TrimRight(s, " ")
}

// eventOperation names the operation an event is about (empty for
// execution and invocation events).
func eventOperation(ev types.Event) string {
	kind, _ := splitEventType(ev.EventType)
	switch kind {
	case "Execution", "InvocationCompleted":
		if ev.EventType == types.EventTypeExecutionStarted && ev.Name != nil {
			return fmt.Sprintf("execution %q", *ev.Name)
		}
		return ""
	}
	return opLabel(kind, aws.ToString(ev.Name), aws.ToString(ev.Id))
}

// eventDetail summarises an event's details on one line: results and
// inputs (when the history was read with execution data), errors, wait
// deadlines, callback ids, retries.
func eventDetail(ev types.Event, now time.Time) string {
	var parts []string
	add := func(s string) {
		if s != "" {
			parts = append(parts, s)
		}
	}
	input := func(in *types.EventInput) {
		if in != nil && in.Payload != nil {
			add("input " + oneLine(*in.Payload, 60))
		}
	}
	result := func(r *types.EventResult) {
		if r != nil && r.Payload != nil {
			add("result " + oneLine(*r.Payload, 60))
		}
	}
	failure := func(e *types.EventError) {
		if e != nil && e.Payload != nil {
			add("error " + oneLine(fmtError(e.Payload), 80))
		}
	}
	switch {
	case ev.ExecutionStartedDetails != nil:
		input(ev.ExecutionStartedDetails.Input)
		if t := ev.ExecutionStartedDetails.ExecutionTimeout; t != nil {
			add(fmt.Sprintf("timeout %ds", *t))
		}
	case ev.ExecutionSucceededDetails != nil:
		result(ev.ExecutionSucceededDetails.Result)
	case ev.ExecutionFailedDetails != nil:
		failure(ev.ExecutionFailedDetails.Error)
	case ev.ExecutionTimedOutDetails != nil:
		failure(ev.ExecutionTimedOutDetails.Error)
	case ev.ExecutionStoppedDetails != nil:
		failure(ev.ExecutionStoppedDetails.Error)
	case ev.StepSucceededDetails != nil:
		result(ev.StepSucceededDetails.Result)
		if r := ev.StepSucceededDetails.RetryDetails; r != nil && r.CurrentAttempt > 1 {
			add(fmt.Sprintf("attempt %d", r.CurrentAttempt))
		}
	case ev.StepFailedDetails != nil:
		failure(ev.StepFailedDetails.Error)
		if r := ev.StepFailedDetails.RetryDetails; r != nil {
			add(fmt.Sprintf("attempt %d", r.CurrentAttempt))
			if r.NextAttemptDelaySeconds != nil {
				add(fmt.Sprintf("retry in %ds", *r.NextAttemptDelaySeconds))
			}
		}
	case ev.WaitStartedDetails != nil:
		d := ev.WaitStartedDetails
		if d.Duration != nil {
			add(fmt.Sprintf("%ds", *d.Duration))
		}
		if d.ScheduledEndTimestamp != nil {
			add("until " + fmtTime(d.ScheduledEndTimestamp, now))
		}
	case ev.WaitCancelledDetails != nil:
		failure(ev.WaitCancelledDetails.Error)
	case ev.CallbackStartedDetails != nil:
		d := ev.CallbackStartedDetails
		add("id " + aws.ToString(d.CallbackId))
		if d.Timeout != nil && *d.Timeout > 0 {
			add(fmt.Sprintf("timeout %ds", *d.Timeout))
		}
		if d.HeartbeatTimeout != nil && *d.HeartbeatTimeout > 0 {
			add(fmt.Sprintf("heartbeat %ds", *d.HeartbeatTimeout))
		}
	case ev.CallbackSucceededDetails != nil:
		result(ev.CallbackSucceededDetails.Result)
	case ev.CallbackFailedDetails != nil:
		failure(ev.CallbackFailedDetails.Error)
	case ev.CallbackTimedOutDetails != nil:
		failure(ev.CallbackTimedOutDetails.Error)
	case ev.ContextSucceededDetails != nil:
		result(ev.ContextSucceededDetails.Result)
	case ev.ContextFailedDetails != nil:
		failure(ev.ContextFailedDetails.Error)
	case ev.ChainedInvokeStartedDetails != nil:
		d := ev.ChainedInvokeStartedDetails
		add("function " + aws.ToString(d.FunctionName))
		if a := aws.ToString(d.DurableExecutionArn); a != "" {
			add("execution " + a)
		}
		input(d.Input)
	case ev.ChainedInvokeSucceededDetails != nil:
		result(ev.ChainedInvokeSucceededDetails.Result)
	case ev.ChainedInvokeFailedDetails != nil:
		failure(ev.ChainedInvokeFailedDetails.Error)
	case ev.ChainedInvokeTimedOutDetails != nil:
		failure(ev.ChainedInvokeTimedOutDetails.Error)
	case ev.ChainedInvokeStoppedDetails != nil:
		failure(ev.ChainedInvokeStoppedDetails.Error)
	case ev.InvocationCompletedDetails != nil:
		d := ev.InvocationCompletedDetails
		add("request " + aws.ToString(d.RequestId))
		if d.StartTimestamp != nil && d.EndTimestamp != nil {
			add("took " + fmtDuration(d.EndTimestamp.Sub(*d.StartTimestamp)))
		}
		failure(d.Error)
	}
	return strings.Join(parts, ", ")
}
