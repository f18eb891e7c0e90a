package api

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/duro-run/duro/internal/engine"
)

// This file holds the routes of AWS's local durable execution emulator that
// are not part of the Lambda API (landscape.md §1.2, §1.3): the ones SAM CLI
// drives when it runs `dex-local-runner`, so that Duro can replace that
// emulator. They are served by every Duro server, not only by
// `duro dex-local-runner`: they add paths the Lambda API does not use, and
// pointing SAM CLI at a running `duro serve` or `duro dev`
// (DURABLE_EXECUTIONS_EXTERNAL_EMULATOR_PORT) then just works.
//
//   - POST /start-durable-execution starts an execution of a function that
//     runs behind a Lambda-compatible endpoint (a container's Runtime
//     Interface Emulator), registering the function on first use.
//   - PUT /lambda-endpoint sets the default of that endpoint.
//   - GET /2025-12-01/durable-executions lists executions across functions.

// emulatorFunctionTimeout is the Timeout, in seconds, of the functions
// POST /start-durable-execution registers: Lambda's maximum. Each
// invocation's deadline derives from it, so it is the read timeout of the
// call to the function's endpoint (AWS's emulator uses 960 s); the function
// container enforces the function's real timeout itself.
const emulatorFunctionTimeout = 900

// emulatorFunctionDescription marks the functions the emulator routes
// registered.
const emulatorFunctionDescription = "Registered by POST /start-durable-execution (AWS local emulator contract)"

// emulator is the mutable state of the emulator routes.
type emulator struct {
	mu       sync.RWMutex
	endpoint string // default invoke endpoint; "" when none
	region   string // as PUT /lambda-endpoint last set it; informational

	// startMu serialises POST /start-durable-execution, so that the
	// function's DurableConfig a start writes is the one the execution
	// starts with (the engine copies it into the execution).
	startMu sync.Mutex
}

// defaultEndpoint returns the current default invoke endpoint.
func (e *emulator) defaultEndpoint() string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.endpoint
}

// setDefaultEndpoint replaces the default invoke endpoint.
func (e *emulator) setDefaultEndpoint(endpoint, region string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.endpoint, e.region = endpoint, region
}

// startDurableExecutionRequest is the body of POST /start-durable-execution
// as SAM CLI sends it (landscape.md §1.3). AWS's emulator requires AccountId,
// FunctionName, FunctionQualifier, ExecutionName, ExecutionTimeoutSeconds and
// ExecutionRetentionPeriodDays; Duro requires only FunctionName and defaults
// the rest (SAM sends null for the DurableConfig members a template omits).
type startDurableExecutionRequest struct {
	// AccountId is accepted and ignored: ARNs carry the server's account.
	AccountId         *string `json:"AccountId"`
	FunctionName      string  `json:"FunctionName"`
	FunctionQualifier string  `json:"FunctionQualifier"`
	ExecutionName     string  `json:"ExecutionName"`
	// ExecutionTimeoutSeconds and ExecutionRetentionPeriodDays become the
	// function's DurableConfig (see startDurableExecution).
	ExecutionTimeoutSeconds      *flexInt `json:"ExecutionTimeoutSeconds"`
	ExecutionRetentionPeriodDays *flexInt `json:"ExecutionRetentionPeriodDays"`
	// Input is the event: a JSON string holding JSON text, as SAM sends it.
	// Any other JSON value is taken as the event itself.
	Input          json.RawMessage `json:"Input"`
	LambdaEndpoint string          `json:"LambdaEndpoint"`
	// InvocationId is accepted and ignored: AWS's emulator builds its
	// execution ARN from it, Duro's ARNs have the documented shape.
	InvocationId *string `json:"InvocationId"`
	// TraceFields is accepted and ignored.
	TraceFields json.RawMessage `json:"TraceFields"`
	TenantId    string          `json:"TenantId"`
}

// flexInt is an integer member that also accepts a numeric string (a SAM
// template parameter) and null.
type flexInt struct {
	set bool
	v   int64
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if s == "null" {
		*f = flexInt{}
		return nil
	}
	if uq, err := strconv.Unquote(s); err == nil {
		s = strings.TrimSpace(uq)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("expected an integer, got %s", b)
	}
	*f = flexInt{set: true, v: n}
	return nil
}

// int32Ptr returns the value as an *int32, nil when absent. Callers
// range-check it first.
func (f *flexInt) int32Ptr() *int32 {
	if f == nil || !f.set {
		return nil
	}
	v := int32(f.v)
	return &v
}

// startDurableExecutionResponse is the 201 answer.
type startDurableExecutionResponse struct {
	ExecutionArn string `json:"ExecutionArn"`
}

// startDurableExecution is POST /start-durable-execution, the emulator's
// start (landscape.md §1.3). It
//
//  1. picks the invoke endpoint: the request's LambdaEndpoint, else the
//     default (--lambda-endpoint, or the last PUT /lambda-endpoint);
//  2. for the $LATEST qualifier, makes sure a durable function of that name
//     exists: it registers one on first use (no code, Timeout 900 s) when
//     there is an endpoint to run it at, and otherwise requires it to exist
//     (it then runs on its own runtime). ExecutionTimeoutSeconds and
//     ExecutionRetentionPeriodDays, when given, are written to the
//     function's DurableConfig if it differs: the engine takes an
//     execution's timeout and retention from the function, and copies them
//     into the execution at start, so each execution keeps the values its
//     start asked for (starts are serialised to that end). Other qualifiers
//     name published versions, which are left as they are;
//  3. starts the execution with every invocation going to
//     {endpoint}/2015-03-31/functions/{FunctionName}/invocations, and
//     answers 201 {"ExecutionArn": ...}.
//
// A start with the name and input of an existing execution returns that
// execution, as Invoke does.
func (s *server) startDurableExecution(w http.ResponseWriter, r *http.Request) error {
	body, err := readBodyFor(r, maxCheckpointBody, "StartDurableExecution")
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return invalidParameter("Request body is required")
	}
	var req startDurableExecutionRequest
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	payload, err := emulatorInput(req.Input)
	if err != nil {
		return err
	}
	qualifier := cmp.Or(req.FunctionQualifier, "$LATEST")

	var v violations
	v.required("functionName", req.FunctionName, ruleNamespacedFunctionName)
	v.str("functionQualifier", qualifier, ruleQualifier)
	v.nonEmpty("executionName", req.ExecutionName, ruleDurableExecutionName)
	v.nonEmpty("tenantId", req.TenantId, ruleTenantID)
	if t := req.ExecutionTimeoutSeconds; t != nil && t.set {
		v.intRange("executionTimeoutSeconds", t.v, 1, maxDurationSeconds)
	}
	if d := req.ExecutionRetentionPeriodDays; d != nil && d.set {
		v.intRange("executionRetentionPeriodDays", d.v, minRetention, maxRetention)
	}
	if err := v.err(); err != nil {
		return err
	}
	endpoint := req.LambdaEndpoint
	if endpoint == "" {
		endpoint = s.emu.defaultEndpoint()
	}
	if endpoint != "" {
		if err := checkEndpointURL("LambdaEndpoint", endpoint); err != nil {
			return err
		}
	}

	ctx := r.Context()
	s.emu.startMu.Lock()
	defer s.emu.startMu.Unlock()
	if qualifier == "$LATEST" {
		if err := s.ensureEmulatorFunction(ctx, req.FunctionName, endpoint != "",
			req.ExecutionTimeoutSeconds.int32Ptr(), req.ExecutionRetentionPeriodDays.int32Ptr()); err != nil {
			return err
		}
	}
	started, err := s.svc.StartExecution(ctx, engine.StartInput{
		FunctionName:   req.FunctionName,
		Qualifier:      qualifier,
		Name:           req.ExecutionName,
		Payload:        payload,
		TenantID:       req.TenantId,
		InvokeEndpoint: endpoint,
	})
	if errors.Is(err, engine.ErrNotDurable) {
		return invalidParameter(fmt.Sprintf("Function %s:%s is not a durable function (it has no DurableConfig)", req.FunctionName, qualifier))
	}
	if err != nil {
		return err
	}
	setStartHeaders(w, started)
	return writeJSON(w, http.StatusCreated, startDurableExecutionResponse{ExecutionArn: started.DurableExecutionArn})
}

// emulatorInput turns the Input member into the execution's payload: the
// content of a JSON string (which must itself be JSON, as Invoke requires),
// the JSON text of any other value, nothing for null or absent.
func emulatorInput(raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	payload := []byte(raw)
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, invalidParameter("Could not parse Input: " + err.Error())
		}
		payload = []byte(s)
	}
	if len(payload) > maxSyncInvokePayload {
		return nil, newError(shapeRequestTooLarge,
			fmt.Sprintf("Input must be at most %d bytes, got %d", maxSyncInvokePayload, len(payload)))
	}
	if err := checkInvokePayload(payload); err != nil {
		return nil, newError(shapeInvalidRequestContent, "Could not parse Input into json: the execution input must be JSON text")
	}
	return payload, nil
}

// checkEndpointURL validates an invoke endpoint: an absolute http(s) URL.
func checkEndpointURL(field, endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return invalidParameter(fmt.Sprintf("Invalid %s '%s': expected an absolute http:// or https:// URL such as http://127.0.0.1:3001", field, endpoint))
	}
	return nil
}

// ensureEmulatorFunction makes sure $LATEST of name exists and is durable
// with the given execution timeout and retention (nil: keep what the
// function has, or the engine's defaults). It registers the function when it
// is missing and create is set.
func (s *server) ensureEmulatorFunction(ctx context.Context, name string, create bool, timeout, retention *int32) error {
	cfg, err := s.svc.GetFunctionConfiguration(ctx, name, "$LATEST")
	if isEngineKind(err, engine.KindNotFound) {
		if !create {
			return engine.Errorf(engine.KindNotFound,
				"Function not found: %s (no LambdaEndpoint was given and no default is set, so the function must exist and have a runtime)", name)
		}
		_, err = s.svc.CreateFunction(ctx, engine.CreateFunctionInput{
			FunctionName:  name,
			Description:   emulatorFunctionDescription,
			Timeout:       ptrTo(int32(emulatorFunctionTimeout)),
			DurableConfig: &engine.DurableConfig{ExecutionTimeout: timeout, RetentionPeriodInDays: retention},
		})
		if err == nil {
			s.log.InfoContext(ctx, "registered function for the emulator start route", "function", name)
			return nil
		}
		if !isEngineKind(err, engine.KindResourceConflict) {
			return err
		}
		// Created concurrently (another node, or the Lambda API): check it.
		cfg, err = s.svc.GetFunctionConfiguration(ctx, name, "$LATEST")
	}
	if err != nil {
		return err
	}
	want := engine.DurableConfig{}
	if cfg.DurableConfig != nil {
		want = *cfg.DurableConfig
	}
	if timeout != nil {
		want.ExecutionTimeout = timeout
	}
	if retention != nil {
		want.RetentionPeriodInDays = retention
	}
	if cfg.DurableConfig != nil && sameDurableConfig(*cfg.DurableConfig, want) {
		return nil
	}
	if _, err := s.svc.UpdateFunctionConfiguration(ctx, name, engine.UpdateFunctionConfigurationInput{DurableConfig: &want}); err != nil {
		return fmt.Errorf("update DurableConfig of %s: %w", name, err)
	}
	return nil
}

// sameDurableConfig compares two DurableConfigs by value.
func sameDurableConfig(a, b engine.DurableConfig) bool {
	eq := func(x, y *int32) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return eq(a.ExecutionTimeout, b.ExecutionTimeout) && eq(a.RetentionPeriodInDays, b.RetentionPeriodInDays) &&
		(a.KMSKeyArn == nil) == (b.KMSKeyArn == nil) && (a.KMSKeyArn == nil || *a.KMSKeyArn == *b.KMSKeyArn)
}

// isEngineKind reports whether err is an engine error of kind k.
func isEngineKind(err error, k engine.Kind) bool {
	var ee *engine.Error
	return errors.As(err, &ee) && ee.Kind == k
}

// ptrTo returns a pointer to v.
func ptrTo[T any](v T) *T { return &v }

// lambdaEndpointRequest is the body of PUT /lambda-endpoint.
type lambdaEndpointRequest struct {
	EndpointUrl string `json:"EndpointUrl"`
	// RegionName is kept for the record only: Duro's ARNs use its own
	// region, and the endpoint is called without signing.
	RegionName string `json:"RegionName"`
}

// updateLambdaEndpoint is PUT /lambda-endpoint: it sets the default invoke
// endpoint of POST /start-durable-execution (for starts without
// LambdaEndpoint). Executions already started keep theirs (each execution
// stores its endpoint). The default lives in this process only: after a
// restart it is --lambda-endpoint (api.Options.LambdaEndpoint) again.
func (s *server) updateLambdaEndpoint(w http.ResponseWriter, r *http.Request) error {
	body, err := readBodyFor(r, maxSmallBody, "UpdateLambdaEndpoint")
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return invalidParameter("Request body is required")
	}
	var req lambdaEndpointRequest
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	if req.EndpointUrl == "" {
		return invalidParameter("EndpointUrl is required")
	}
	if err := checkEndpointURL("EndpointUrl", req.EndpointUrl); err != nil {
		return err
	}
	s.emu.setDefaultEndpoint(req.EndpointUrl, cmp.Or(req.RegionName, "us-east-1"))
	s.log.InfoContext(r.Context(), "default lambda endpoint updated", "endpoint", req.EndpointUrl)
	return writeJSON(w, http.StatusOK, map[string]string{"message": "Lambda endpoint updated successfully"})
}

// Paging of GET /2025-12-01/durable-executions across functions.
const (
	defaultEmulatorListItems = 100
	// emulatorListPage is the page size used to read each function's
	// executions.
	emulatorListPage = 1000
)

// listDurableExecutions is GET /2025-12-01/durable-executions, the
// emulator's list across functions. Query members: FunctionName,
// FunctionVersion (or Qualifier), DurableExecutionName, StatusFilter
// (repeatable; Statuses is accepted too), StartedAfter and StartedBefore
// (TimeAfter and TimeBefore too, as AWS's emulator reads them; RFC 3339, or
// ISO 8601 without a zone meaning UTC), Marker, MaxItems (default 100, at
// most 1000) and ReverseOrder (true lists oldest first; newest first by
// default, as ListDurableExecutionsByFunction).
//
// With FunctionName it is ListDurableExecutionsByFunction. Without, it reads
// every function's matching executions, merges them by start time and pages
// the result with an offset marker: simple, and meant for the handful of
// functions and executions of local development, not for large stores.
func (s *server) listDurableExecutions(w http.ResponseWriter, r *http.Request) error {
	q, err := parseEmulatorListQuery(newQuery(r))
	if err != nil {
		return err
	}
	ctx := r.Context()
	if q.FunctionName != "" {
		list, err := s.svc.ListExecutions(ctx, q)
		if err != nil {
			return err
		}
		if list.DurableExecutions == nil {
			list.DurableExecutions = []engine.ExecutionSummary{}
		}
		return writeJSON(w, http.StatusOK, list)
	}

	offset := 0
	if q.Marker != "" {
		n, err := strconv.Atoi(q.Marker)
		if err != nil || n < 0 {
			return invalidParameter(fmt.Sprintf("Invalid marker: %s", q.Marker))
		}
		offset = n
	}
	limit := q.MaxItems
	if limit <= 0 {
		limit = defaultEmulatorListItems
	}
	all, err := s.allExecutions(ctx, q)
	if err != nil {
		return err
	}
	slices.SortStableFunc(all, func(a, b engine.ExecutionSummary) int {
		c := time.Time(a.StartTimestamp).Compare(time.Time(b.StartTimestamp))
		if c == 0 {
			c = strings.Compare(a.DurableExecutionArn, b.DurableExecutionArn)
		}
		if !q.ReverseOrder {
			c = -c
		}
		return c
	})
	out := engine.ExecutionList{DurableExecutions: []engine.ExecutionSummary{}}
	if offset < len(all) {
		end := min(offset+limit, len(all))
		out.DurableExecutions = all[offset:end]
		if end < len(all) {
			out.NextMarker = strconv.Itoa(end)
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// allExecutions lists the executions of every function that match q's
// filters (q.FunctionName, Marker and MaxItems aside).
func (s *server) allExecutions(ctx context.Context, q engine.ListQuery) ([]engine.ExecutionSummary, error) {
	var all []engine.ExecutionSummary
	fnMarker := ""
	for {
		fns, err := s.svc.ListFunctions(ctx, fnMarker, 50)
		if err != nil {
			return nil, fmt.Errorf("list functions: %w", err)
		}
		for _, fn := range fns.Functions {
			fq := q
			fq.FunctionName, fq.Marker, fq.MaxItems = fn.FunctionName, "", emulatorListPage
			for {
				page, err := s.svc.ListExecutions(ctx, fq)
				if isEngineKind(err, engine.KindNotFound) {
					break // deleted meanwhile
				}
				if err != nil {
					return nil, fmt.Errorf("list executions of %s: %w", fn.FunctionName, err)
				}
				all = append(all, page.DurableExecutions...)
				if page.NextMarker == "" {
					break
				}
				fq.Marker = page.NextMarker
			}
		}
		if fns.NextMarker == "" {
			return all, nil
		}
		fnMarker = fns.NextMarker
	}
}

// parseEmulatorListQuery decodes the query of GET /2025-12-01/durable-executions.
func parseEmulatorListQuery(q query) (engine.ListQuery, error) {
	var out engine.ListQuery
	var v violations
	if s, ok := q.str("FunctionName"); ok && s != "" {
		out.FunctionName = s
		v.str("functionName", s, ruleNamespacedFunctionName)
	}
	for _, key := range []string{"FunctionVersion", "Qualifier"} {
		if s, ok := q.str(key); ok && s != "" {
			out.Qualifier = s
			v.str("qualifier", s, ruleQualifier)
			break
		}
	}
	if s, ok := q.str("DurableExecutionName"); ok && s != "" {
		out.Name = s
		v.str("durableExecutionName", s, ruleDurableExecutionName)
	}
	for _, key := range []string{"StatusFilter", "Statuses"} {
		for _, s := range q.values[key] {
			if s != "" && !slices.Contains(out.Statuses, s) {
				out.Statuses = append(out.Statuses, s)
			}
		}
	}
	if len(out.Statuses) > 0 {
		v.listLen("statusFilter", out.Statuses, 1, maxStatuses)
		v.enumList("statusFilter", out.Statuses, enumExecutionStatus)
	}
	var err error
	if out.StartedAfter, err = emulatorTime(q, "StartedAfter", "TimeAfter"); err != nil {
		return out, err
	}
	if out.StartedBefore, err = emulatorTime(q, "StartedBefore", "TimeBefore"); err != nil {
		return out, err
	}
	if s, ok := q.str("ReverseOrder"); ok && s != "" {
		switch strings.ToLower(s) {
		case "true", "1", "yes":
			out.ReverseOrder = true
		case "false", "0", "no":
		default:
			return out, invalidParameter(fmt.Sprintf("Invalid value '%s' for query parameter ReverseOrder: expected true or false", s))
		}
	}
	maxItems, err := q.integer("MaxItems", 0)
	if err != nil {
		return out, err
	}
	checkMaxItems(&v, maxItems)
	out.MaxItems = int(maxItems)
	out.Marker, _ = q.str("Marker")
	return out, v.err()
}

// emulatorTime reads the first present key as a timestamp: RFC 3339, or
// ISO 8601 without a zone (Python's datetime.isoformat()), taken as UTC.
func emulatorTime(q query, keys ...string) (time.Time, error) {
	for _, key := range keys {
		s, ok := q.str(key)
		if !ok || s == "" {
			continue
		}
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t, nil
		}
		for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02"} {
			if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
				return t, nil
			}
		}
		return time.Time{}, invalidParameter(fmt.Sprintf(
			"Invalid value '%s' for query parameter %s: expected an ISO-8601 timestamp such as 2026-01-02T03:04:05Z", s, key))
	}
	return time.Time{}, nil
}
