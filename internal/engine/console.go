package engine

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/duro-run/duro/internal/store"
)

// This file holds the read queries of Duro's web console, which the AWS API
// has no operation for: a listing of executions across functions and an
// execution's operations without a checkpoint token.

// Limits of ListAllExecutions.
const (
	defaultConsolePage = 50
	maxConsolePage     = 1000
)

// AllExecutionsQuery selects executions across functions, newest first.
type AllExecutionsQuery struct {
	// FunctionName optionally narrows the listing to one function: a name,
	// partial ARN or ARN, possibly qualified ("fn:1") to narrow it to a
	// version too.
	FunctionName string
	// Name is an exact DurableExecutionName.
	Name     string
	Statuses []string
	// StartedAfter and StartedBefore are exclusive bounds; zero means none.
	StartedAfter  time.Time
	StartedBefore time.Time
	// Marker continues a listing from a previous page's NextMarker.
	Marker string
	// MaxItems is the page size: 1 to 1000, default 50.
	MaxItems int
}

// ExecutionListItem is one execution of the console's listing.
type ExecutionListItem struct {
	DurableExecutionArn  string     `json:"DurableExecutionArn"`
	DurableExecutionName string     `json:"DurableExecutionName"`
	FunctionName         string     `json:"FunctionName"`
	FunctionVersion      string     `json:"FunctionVersion"`
	FunctionArn          string     `json:"FunctionArn"`
	Status               string     `json:"Status"`
	StartTimestamp       Timestamp  `json:"StartTimestamp"`
	EndTimestamp         *Timestamp `json:"EndTimestamp,omitempty"`
}

// AllExecutionsPage is a page of ListAllExecutions. NextMarker is empty on
// the last page.
type AllExecutionsPage struct {
	Executions []ExecutionListItem `json:"Executions"`
	NextMarker string              `json:"NextMarker,omitempty"`
}

// ListAllExecutions lists executions of every function (or of one), newest
// first, paged by a keyset cursor on (start time, id): a page costs the same
// however many executions the store holds. An unknown function yields an
// empty page rather than an error, so that a console filter on a deleted
// function still shows its leftovers or nothing.
func (e *Engine) ListAllExecutions(ctx context.Context, q AllExecutionsQuery) (AllExecutionsPage, error) {
	limit := q.MaxItems
	switch {
	case limit == 0:
		limit = defaultConsolePage
	case limit < 0 || limit > maxConsolePage:
		return AllExecutionsPage{}, Errorf(KindInvalidParameter, "MaxItems must be between 1 and %d", maxConsolePage)
	}
	f := store.ExecutionFilter{
		Name: q.Name, Statuses: q.Statuses, StartedAfter: q.StartedAfter, StartedBefore: q.StartedBefore, Limit: limit + 1,
	}
	if q.FunctionName != "" {
		ref, err := e.parseFunctionName(q.FunctionName)
		if err != nil {
			return AllExecutionsPage{}, err
		}
		f.FunctionName, f.Version = ref.Name, ref.Qualifier
	}
	if q.Marker != "" {
		b, err := base64.RawURLEncoding.DecodeString(q.Marker)
		var c listCursor
		if err != nil || json.Unmarshal(b, &c) != nil || c.T == 0 {
			return AllExecutionsPage{}, Errorf(KindInvalidParameter, "Invalid marker: %s", q.Marker)
		}
		f.AfterTime, f.AfterID = time.Unix(0, c.T), c.ID
	}
	rows, err := e.store.ListAllExecutions(ctx, f)
	if err != nil {
		return AllExecutionsPage{}, internalError("list all executions", err)
	}
	out := AllExecutionsPage{Executions: make([]ExecutionListItem, 0, min(len(rows), limit))}
	for i, r := range rows {
		if i == limit {
			last := rows[i-1]
			b, _ := json.Marshal(listCursor{T: last.StartTime.UnixNano(), ID: last.ID})
			out.NextMarker = base64.RawURLEncoding.EncodeToString(b)
			break
		}
		out.Executions = append(out.Executions, ExecutionListItem{
			DurableExecutionArn: r.ARN, DurableExecutionName: r.Name,
			FunctionName: r.FunctionName, FunctionVersion: r.FunctionVersion,
			FunctionArn: e.functionArn(r.FunctionName) + ":" + r.FunctionVersion, Status: r.Status,
			StartTimestamp: Timestamp(r.StartTime), EndTimestamp: TimestampPtr(r.EndTime),
		})
	}
	return out, nil
}

// ListExecutionOperations returns every operation of an execution in start
// order, with their payloads, as GetDurableExecutionState shows them to
// the invocation in flight, but without a checkpoint token and whatever
// state the execution is in: the console draws the operation tree from it.
func (e *Engine) ListExecutionOperations(ctx context.Context, arn string) ([]Operation, error) {
	row, err := e.loadByArnRow(ctx, arn)
	if err != nil {
		return nil, err
	}
	rows, err := e.store.ListOperations(ctx, row.ID, 0, 0)
	if err != nil {
		return nil, internalError("list operations", err)
	}
	out := make([]Operation, 0, len(rows))
	for _, r := range rows {
		var op opRecord
		if err := json.Unmarshal(r.Data, &op); err != nil {
			return nil, internalError("decode operation", err)
		}
		out = append(out, op.Operation.clone())
	}
	return out, nil
}
