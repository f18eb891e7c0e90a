package engine

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/duro-run/duro/internal/store"
)

func notFoundExecution(arn string) error {
	return Errorf(KindNotFound, "Durable execution not found: %s", arn)
}

// loadByArn loads an execution named by its ARN; an ARN whose parts do not
// match the stored execution is not found.
func (e *Engine) loadByArn(ctx context.Context, arn string) (*execState, error) {
	ref, err := parseExecutionArn(arn)
	if err != nil {
		return nil, err
	}
	s, err := e.load(ctx, ref.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFoundExecution(arn)
	}
	if err != nil {
		return nil, internalError("load execution", err)
	}
	if s.row.ARN != arn {
		return nil, notFoundExecution(arn)
	}
	return s, nil
}

// GetExecution implements Service.
func (e *Engine) GetExecution(ctx context.Context, arn string, includeData bool) (ExecutionDescription, error) {
	ref, err := parseExecutionArn(arn)
	if err != nil {
		return ExecutionDescription{}, err
	}
	row, err := e.store.GetExecution(ctx, ref.ID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && row.ARN != arn) {
		return ExecutionDescription{}, notFoundExecution(arn)
	}
	if err != nil {
		return ExecutionDescription{}, internalError("get execution", err)
	}
	var d execData
	if err := json.Unmarshal(row.Data, &d); err != nil {
		return ExecutionDescription{}, internalError("decode execution", err)
	}
	input := d.Input
	if includeData {
		op, err := e.store.GetOperation(ctx, ref.ID, ref.ID)
		switch {
		case err == nil:
			var rec opRecord
			if err := json.Unmarshal(op.Data, &rec); err != nil {
				return ExecutionDescription{}, internalError("decode execution operation", err)
			}
			if in := inputOf(&rec); in != nil {
				input = in
			}
		case !errors.Is(err, store.ErrNotFound):
			return ExecutionDescription{}, internalError("get execution operation", err)
		}
	}
	return describe(&row, &d, input, includeData), nil
}

// describe builds an execution's public description.
func describe(row *store.ExecutionRow, d *execData, input *string, includeData bool) ExecutionDescription {
	out := ExecutionDescription{
		DurableExecutionArn: row.ARN, DurableExecutionName: row.Name, FunctionArn: d.FunctionArn,
		Status: row.Status, StartTimestamp: Timestamp(row.StartTime), EndTimestamp: TimestampPtr(row.EndTime),
		Version: row.FunctionVersion, DurableConfig: d.DurableConfig,
	}
	if d.TraceID != "" {
		out.TraceHeader = &TraceHeader{XAmznTraceId: &d.TraceID}
	}
	if includeData {
		out.InputPayload = input
		out.Result = d.Result
		out.Error = d.Error
	} else {
		out.ExecutionDataIncluded = ptr(false)
	}
	return out
}

func pageSize(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

// GetHistory implements Service. Without MaxItems it returns up to 1000
// events, so that runners reading one page see whole histories.
func (e *Engine) GetHistory(ctx context.Context, q HistoryQuery) (HistoryPage, error) {
	s, err := e.loadByArnRow(ctx, q.DurableExecutionArn)
	if err != nil {
		return HistoryPage{}, err
	}
	limit := pageSize(q.MaxItems, 1000)
	after := int64(0)
	if q.Marker != "" {
		after, err = strconv.ParseInt(q.Marker, 10, 64)
		if err != nil || after < 0 {
			return HistoryPage{}, Errorf(KindInvalidParameter, "Invalid marker: %s", q.Marker)
		}
	}
	rows, err := e.store.ListEvents(ctx, s.ID, store.EventRange{After: after, Reverse: q.ReverseOrder, Limit: limit + 1})
	if err != nil {
		return HistoryPage{}, internalError("list events", err)
	}
	page := HistoryPage{Events: []Event{}}
	for i, r := range rows {
		if i == limit {
			page.NextMarker = strconv.FormatInt(rows[i-1].EventID, 10)
			break
		}
		var ev Event
		if err := json.Unmarshal(r.Data, &ev); err != nil {
			return HistoryPage{}, internalError("decode event", err)
		}
		if !q.IncludeExecutionData {
			stripPayloads(&ev)
		}
		page.Events = append(page.Events, ev)
	}
	return page, nil
}

func (e *Engine) loadByArnRow(ctx context.Context, arn string) (store.ExecutionRow, error) {
	ref, err := parseExecutionArn(arn)
	if err != nil {
		return store.ExecutionRow{}, err
	}
	row, err := e.store.GetExecution(ctx, ref.ID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && row.ARN != arn) {
		return row, notFoundExecution(arn)
	}
	if err != nil {
		return row, internalError("get execution", err)
	}
	return row, nil
}

// stripPayloads removes customer data from an event, keeping the wrappers
// and their Truncated flags.
func stripPayloads(ev *Event) {
	if d := ev.ExecutionStartedDetails; d != nil {
		d.Input.Payload = nil
	}
	if d := ev.ChainedInvokeStartedDetails; d != nil && d.Input != nil {
		d.Input.Payload = nil
	}
	for _, r := range []*ResultDetails{ev.ExecutionSucceededDetails, ev.ContextSucceededDetails, ev.ChainedInvokeSucceededDetails, ev.CallbackSucceededDetails} {
		if r != nil {
			r.Result.Payload = nil
		}
	}
	for _, r := range []*ErrorDetails{ev.ExecutionFailedDetails, ev.ExecutionStoppedDetails, ev.ContextFailedDetails, ev.ChainedInvokeFailedDetails,
		ev.ChainedInvokeTimedOutDetails, ev.ChainedInvokeStoppedDetails, ev.CallbackFailedDetails, ev.CallbackTimedOutDetails} {
		if r != nil {
			r.Error.Payload = nil
		}
	}
	for _, r := range []*OptionalErrorDetails{ev.ExecutionTimedOutDetails, ev.WaitCancelledDetails} {
		if r != nil && r.Error != nil {
			r.Error.Payload = nil
		}
	}
	if d := ev.StepSucceededDetails; d != nil {
		d.Result.Payload = nil
	}
	if d := ev.StepFailedDetails; d != nil {
		d.Error.Payload = nil
	}
	if d := ev.InvocationCompletedDetails; d != nil && d.Error != nil {
		d.Error.Payload = nil
	}
}

// GetState pages the operations visible to the invocation holding the
// current checkpoint token.
func (e *Engine) GetState(ctx context.Context, q StateQuery) (ExecutionState, error) {
	ref, err := parseExecutionArn(q.DurableExecutionArn)
	if err != nil {
		return ExecutionState{}, err
	}
	tokExec, seq, terr := e.sign.parseCheckpointToken(q.CheckpointToken)
	if terr != nil || tokExec != ref.ID {
		return ExecutionState{}, staleToken("token is not valid for this execution")
	}
	mu := e.stripe(ref.ID)
	mu.Lock()
	defer mu.Unlock()
	s, err := e.cached(ctx, ref.ID, false)
	if errors.Is(err, store.ErrNotFound) {
		return ExecutionState{}, staleToken("execution not found")
	}
	if err != nil {
		return ExecutionState{}, internalError("load execution", err)
	}
	if s.terminal() || s.data.InvocationID == "" || seq != s.data.TokenSeq {
		return ExecutionState{}, staleToken("token is stale or the execution is no longer running")
	}
	after := int64(0)
	if q.Marker != "" {
		after, err = strconv.ParseInt(q.Marker, 10, 64)
		if err != nil {
			return ExecutionState{}, Errorf(KindInvalidParameter, "Invalid marker: %s", q.Marker)
		}
	}
	limit := pageSize(q.MaxItems, 100)
	out := ExecutionState{Operations: []Operation{}}
	for _, op := range s.visible() {
		if op.Seq <= after {
			continue
		}
		if len(out.Operations) == limit {
			out.NextMarker = strconv.FormatInt(op.Seq-1, 10)
			break
		}
		out.Operations = append(out.Operations, op.Operation.clone())
	}
	return out, nil
}

// listCursor is the decoded form of a ListDurableExecutionsByFunction marker.
type listCursor struct {
	T  int64  `json:"t"`
	ID string `json:"i"`
}

// ListExecutions implements Service.
func (e *Engine) ListExecutions(ctx context.Context, q ListQuery) (ExecutionList, error) {
	ref, err := e.parseFunctionName(q.FunctionName)
	if err != nil {
		return ExecutionList{}, err
	}
	qual, err := mergeQualifier(ref, q.Qualifier)
	if err != nil {
		return ExecutionList{}, err
	}
	if _, err := e.lookupVersion(ctx, ref.Name, latest); err != nil {
		return ExecutionList{}, err
	}
	limit := pageSize(q.MaxItems, 100)
	f := store.ExecutionFilter{
		FunctionName: ref.Name, Version: qual, Name: q.Name, Statuses: q.Statuses,
		StartedAfter: q.StartedAfter, StartedBefore: q.StartedBefore, OldestFirst: q.ReverseOrder, Limit: limit + 1,
	}
	if q.Marker != "" {
		b, err := base64.RawURLEncoding.DecodeString(q.Marker)
		var c listCursor
		if err != nil || json.Unmarshal(b, &c) != nil {
			return ExecutionList{}, Errorf(KindInvalidParameter, "Invalid marker: %s", q.Marker)
		}
		f.AfterTime, f.AfterID = time.Unix(0, c.T), c.ID
	}
	rows, err := e.store.ListExecutions(ctx, f)
	if err != nil {
		return ExecutionList{}, internalError("list executions", err)
	}
	out := ExecutionList{DurableExecutions: []ExecutionSummary{}}
	for i, r := range rows {
		if i == limit {
			last := rows[i-1]
			b, _ := json.Marshal(listCursor{T: last.StartTime.UnixNano(), ID: last.ID})
			out.NextMarker = base64.RawURLEncoding.EncodeToString(b)
			break
		}
		fa := e.functionArn(r.FunctionName) + ":" + r.FunctionVersion
		out.DurableExecutions = append(out.DurableExecutions, ExecutionSummary{
			DurableExecutionArn: r.ARN, DurableExecutionName: r.Name, FunctionArn: fa, Status: r.Status,
			StartTimestamp: Timestamp(r.StartTime), EndTimestamp: TimestampPtr(r.EndTime),
		})
	}
	return out, nil
}

// StopExecution stops a running execution. Stopping a terminal execution
// answers with its existing end time and changes nothing.
func (e *Engine) StopExecution(ctx context.Context, arn string, cause *ErrorObject) (Timestamp, error) {
	if _, err := e.loadByArnRow(ctx, arn); err != nil {
		return Timestamp{}, err
	}
	ref, _ := parseExecutionArn(arn)
	if cause == nil || (cause.ErrorType == nil && cause.ErrorMessage == nil && cause.ErrorData == nil && cause.StackTrace == nil) {
		cause = NewError("Execution.Stopped", "Execution was stopped.")
	}
	var end time.Time
	_, err := e.update(ctx, ref.ID, func(s *execState) error {
		if s.terminal() {
			end = s.row.EndTime
			return errAbort
		}
		end = e.now()
		e.finish(s, end, StatusStopped, nil, cause)
		return nil
	})
	if err != nil && !errors.Is(err, errAbort) {
		return Timestamp{}, err
	}
	return Timestamp(end), nil
}
