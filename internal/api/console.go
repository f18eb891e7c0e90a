package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/duro-run/duro/internal/engine"
)

// This file holds Duro's read routes for the web console (internal/console),
// which the AWS API has no operation for:
//
//	GET /duro/v1/executions?function=&status=&name=&startedAfter=&startedBefore=&marker=&limit=
//	GET /duro/v1/executions/{DurableExecutionArn}/operations
//
// Like the log route they are Duro's own and answer errors the AWS way.

// ConsoleService is what the console routes need besides engine.Service.
// *engine.Engine implements it; a Service that does not answers them with
// a ServiceException.
type ConsoleService interface {
	ListAllExecutions(ctx context.Context, q engine.AllExecutionsQuery) (engine.AllExecutionsPage, error)
	ListExecutionOperations(ctx context.Context, arn string) ([]engine.Operation, error)
}

// operationsResponse is the body of the operations route.
type operationsResponse struct {
	Operations []engine.Operation `json:"Operations"`
}

// consoleService returns the engine's console queries, or the error the
// console routes answer with when it has none.
func (s *server) consoleService() (ConsoleService, error) {
	cs, ok := s.svc.(ConsoleService)
	if !ok {
		return nil, newError(shapeService, "The console routes are not available on this server.")
	}
	return cs, nil
}

// listAllExecutions lists executions across functions, newest first:
//
//	GET /duro/v1/executions?function=F&status=S&name=N&startedAfter=T&startedBefore=T&marker=M&limit=L
//
// Every parameter is optional. function is a function name (qualified to
// narrow to a version); status may repeat or list statuses separated by
// commas; startedAfter and startedBefore are exclusive, RFC 3339 or epoch
// milliseconds; limit is 1..1000 (default 50). The response is
// {"Executions": [...], "NextMarker": "..."}, NextMarker absent on the last
// page.
func (s *server) listAllExecutions(w http.ResponseWriter, r *http.Request) error {
	q, err := parseAllExecutionsQuery(newQuery(r))
	if err != nil {
		return err
	}
	cs, err := s.consoleService()
	if err != nil {
		return err
	}
	page, err := cs.ListAllExecutions(r.Context(), q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page)
}

// parseAllExecutionsQuery decodes and checks the listing's parameters.
func parseAllExecutionsQuery(q query) (engine.AllExecutionsQuery, error) {
	var out engine.AllExecutionsQuery
	out.FunctionName, _ = q.str("function")
	out.Name, _ = q.str("name")
	out.Marker, _ = q.str("marker")
	for _, v := range q.values["status"] {
		for st := range strings.SplitSeq(v, ",") {
			if st = strings.TrimSpace(st); st != "" {
				out.Statuses = append(out.Statuses, st)
			}
		}
	}
	var err error
	if out.StartedAfter, err = consoleTime(q, "startedAfter"); err != nil {
		return out, err
	}
	if out.StartedBefore, err = consoleTime(q, "startedBefore"); err != nil {
		return out, err
	}
	limit, err := q.integer("limit", 0)
	if err != nil {
		return out, err
	}
	out.MaxItems = int(limit)

	var v violations
	if out.FunctionName != "" {
		v.str("function", out.FunctionName, ruleNamespacedFunctionName)
	}
	if out.Name != "" {
		v.str("name", out.Name, ruleDurableExecutionName)
	}
	v.enumList("status", out.Statuses, enumExecutionStatus)
	if _, ok := q.str("limit"); ok {
		v.intRange("limit", limit, 1, 1000)
	}
	return out, v.err()
}

// consoleTime reads an optional time parameter: RFC 3339, or integer epoch
// milliseconds (what a browser's Date.now() gives).
func consoleTime(q query, key string) (time.Time, error) {
	s, ok := q.str(key)
	if !ok || s == "" {
		return time.Time{}, nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, invalidParameter(fmt.Sprintf(
			"Invalid value '%s' for query parameter %s: expected epoch milliseconds or an RFC 3339 timestamp such as 2026-01-02T03:04:05Z", s, key))
	}
	return t, nil
}

// listExecutionOperations returns every operation of an execution, with
// payloads, in start order, whatever the execution's state:
//
//	GET /duro/v1/executions/{DurableExecutionArn}/operations
func (s *server) listExecutionOperations(w http.ResponseWriter, r *http.Request) error {
	arn, err := parseArnLabel(r.PathValue("DurableExecutionArn"))
	if err != nil {
		return err
	}
	cs, err := s.consoleService()
	if err != nil {
		return err
	}
	ops, err := cs.ListExecutionOperations(r.Context(), arn)
	if err != nil {
		return err
	}
	if ops == nil {
		ops = []engine.Operation{}
	}
	return writeJSON(w, http.StatusOK, operationsResponse{Operations: ops})
}
