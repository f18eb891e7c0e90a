package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/duro-run/duro/internal/store"
)

// LogReader reads the function log lines the runtime host captured.
// store.Store implements it.
type LogReader interface {
	ListLogs(ctx context.Context, q store.LogQuery) ([]store.LogRow, error)
}

// Limits of ListFunctionLogs.
const (
	defaultLogLimit = 1000
	maxLogLimit     = 10000
)

// logEvent is one line in a ListFunctionLogs response.
type logEvent struct {
	// Timestamp is when Duro read the line, in epoch milliseconds (as
	// CloudWatch Logs reports events).
	Timestamp int64 `json:"Timestamp"`
	// Sequence is the line's capture position: increasing across the whole
	// store, so it orders lines exactly where timestamps tie.
	Sequence            int64  `json:"Sequence"`
	FunctionName        string `json:"FunctionName"`
	FunctionVersion     string `json:"FunctionVersion"`
	RequestId           string `json:"RequestId,omitempty"`
	DurableExecutionArn string `json:"DurableExecutionArn,omitempty"`
	Stream              string `json:"Stream"`
	Message             string `json:"Message"`
}

// logsResponse is the ListFunctionLogs response.
type logsResponse struct {
	Logs []logEvent `json:"Logs"`
	// NextToken is always present: pass it back as NextToken to continue
	// after the last line returned. It comes back unchanged when there was
	// nothing newer, so the same call serves paging and tailing; a listing
	// is complete when a page comes back empty.
	NextToken string `json:"NextToken"`
}

// listFunctionLogs is Duro's log route:
//
//	GET /duro/v1/logs?durableExecutionArn=ARN&functionName=NAME&requestId=ID&NextToken=T&limit=N
//
// durableExecutionArn or functionName is required; requestId narrows
// either. Lines come oldest first, at most limit (default 1000, at most
// 10000) per page. "after" is accepted as a synonym of NextToken.
func (s *server) listFunctionLogs(w http.ResponseWriter, r *http.Request) error {
	if s.logs == nil {
		return newError(shapeService, "Function logs are not available on this server.")
	}
	q := newQuery(r)
	var lq store.LogQuery
	lq.ExecutionArn, _ = q.str("durableExecutionArn")
	lq.FunctionName, _ = q.str("functionName")
	lq.RequestID, _ = q.str("requestId")
	if lq.ExecutionArn == "" && lq.FunctionName == "" {
		return invalidParameter("Either durableExecutionArn or functionName is required.")
	}
	token, ok := q.str("NextToken")
	if !ok {
		token, _ = q.str("after")
	}
	if token != "" {
		n, err := strconv.ParseInt(token, 10, 64)
		if err != nil || n < 0 {
			return invalidParameter(fmt.Sprintf("Invalid NextToken: %s", token))
		}
		lq.After = n
	}
	limit, err := q.integer("limit", defaultLogLimit)
	if err != nil {
		return err
	}
	if limit < 1 || limit > maxLogLimit {
		return invalidParameter(fmt.Sprintf("limit must be between 1 and %d", maxLogLimit))
	}
	lq.Limit = int(limit)
	rows, err := s.logs.ListLogs(r.Context(), lq)
	if err != nil {
		return err
	}
	resp := logsResponse{Logs: make([]logEvent, 0, len(rows)), NextToken: strconv.FormatInt(lq.After, 10)}
	for _, row := range rows {
		resp.Logs = append(resp.Logs, logEvent{
			Timestamp: row.Time.UnixMilli(), Sequence: row.ID, FunctionName: row.FunctionName, FunctionVersion: row.FunctionVersion,
			RequestId: row.RequestID, DurableExecutionArn: row.ExecutionArn, Stream: row.Stream, Message: row.Message,
		})
		resp.NextToken = strconv.FormatInt(row.ID, 10)
	}
	return writeJSON(w, http.StatusOK, resp)
}
