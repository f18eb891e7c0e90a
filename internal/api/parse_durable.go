package api

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"

	"github.com/duro-run/duro/internal/engine"
)

// This file turns the decoded parts of each request (label, query, headers,
// body) into engine inputs, checking them against the model on the way.
// The functions are pure so they can be tested table by table.

// checkArnLabel validates the DurableExecutionArn label. A syntactically
// invalid ARN is InvalidParameterValueException, never ResourceNotFound.
func checkArnLabel(v *violations, arn string) {
	v.required("durableExecutionArn", arn, ruleDurableExecutionArn)
}

// parseArnLabel validates a DurableExecutionArn label on its own.
func parseArnLabel(arn string) (string, error) {
	var v violations
	checkArnLabel(&v, arn)
	return arn, v.err()
}

// parseCallbackIDLabel validates a CallbackId label.
func parseCallbackIDLabel(id string) (string, error) {
	var v violations
	v.required("callbackId", id, ruleCallbackID)
	return id, v.err()
}

// parseGetExecution decodes GetDurableExecution's inputs.
func parseGetExecution(arn string, q query) (includeData bool, err error) {
	include, err := q.boolean("IncludeExecutionData", true)
	if err != nil {
		return false, err
	}
	var v violations
	checkArnLabel(&v, arn)
	return include, v.err()
}

// checkMaxItems validates an ItemCount (0..1000; 0 means the default).
func checkMaxItems(v *violations, n int64) {
	v.intRange("maxItems", n, 0, maxItemCount)
}

// parseHistoryQuery decodes GetDurableExecutionHistory's inputs.
func parseHistoryQuery(arn string, q query) (engine.HistoryQuery, error) {
	out := engine.HistoryQuery{DurableExecutionArn: arn}
	var err error
	if out.IncludeExecutionData, err = q.boolean("IncludeExecutionData", true); err != nil {
		return out, err
	}
	maxItems, err := q.integer("MaxItems", 0)
	if err != nil {
		return out, err
	}
	if out.ReverseOrder, err = q.boolean("ReverseOrder", false); err != nil {
		return out, err
	}
	out.Marker, _ = q.str("Marker")
	out.MaxItems = int(maxItems)

	var v violations
	checkArnLabel(&v, arn)
	checkMaxItems(&v, maxItems)
	return out, v.err()
}

// parseStateQuery decodes GetDurableExecutionState's inputs. The
// CheckpointToken is a required query member.
func parseStateQuery(arn string, q query) (engine.StateQuery, error) {
	out := engine.StateQuery{DurableExecutionArn: arn}
	maxItems, err := q.integer("MaxItems", 0)
	if err != nil {
		return out, err
	}
	out.MaxItems = int(maxItems)
	out.Marker, _ = q.str("Marker")

	var v violations
	checkArnLabel(&v, arn)
	if tok, ok := q.str("CheckpointToken"); ok {
		out.CheckpointToken = tok
		v.str("checkpointToken", tok, ruleCheckpointToken)
	} else {
		v.null("checkpointToken")
	}
	checkMaxItems(&v, maxItems)
	return out, v.err()
}

// parseListQuery decodes ListDurableExecutionsByFunction's inputs.
func parseListQuery(functionName string, q query) (engine.ListQuery, error) {
	out := engine.ListQuery{FunctionName: functionName}
	var err error
	if out.StartedAfter, err = q.timestamp("StartedAfter"); err != nil {
		return out, err
	}
	if out.StartedBefore, err = q.timestamp("StartedBefore"); err != nil {
		return out, err
	}
	if out.ReverseOrder, err = q.boolean("ReverseOrder", false); err != nil {
		return out, err
	}
	maxItems, err := q.integer("MaxItems", 0)
	if err != nil {
		return out, err
	}
	out.MaxItems = int(maxItems)
	out.Marker, _ = q.str("Marker")

	var v violations
	v.required("functionName", functionName, ruleNamespacedFunctionName)
	if s, ok := q.str("Qualifier"); ok {
		out.Qualifier = s
		v.str("qualifier", s, ruleQualifier)
	}
	if s, ok := q.str("DurableExecutionName"); ok {
		out.Name = s
		v.str("durableExecutionName", s, ruleDurableExecutionName)
	}
	if statuses, ok := q.values["Statuses"]; ok {
		// Repeated keys, in any order (Go sorts, JS and botocore do not).
		out.Statuses = slices.Clone(statuses)
		v.listLen("statuses", statuses, 1, maxStatuses)
		v.enumList("statuses", statuses, enumExecutionStatus)
	}
	checkMaxItems(&v, maxItems)
	return out, v.err()
}

// checkpointRequest is the CheckpointDurableExecution body. The token
// members are pointers so that an absent member ("must not be null") is told
// apart from an empty one (length).
type checkpointRequest struct {
	CheckpointToken *string                  `json:"CheckpointToken"`
	ClientToken     *string                  `json:"ClientToken"`
	Updates         []engine.OperationUpdate `json:"Updates"`
}

// parseCheckpoint decodes and validates a CheckpointDurableExecution body.
func parseCheckpoint(arn string, body []byte) (engine.CheckpointInput, error) {
	out := engine.CheckpointInput{DurableExecutionArn: arn}
	req, ok := decodeCheckpointFast(body)
	if !ok {
		req = checkpointRequest{}
		if err := decodeJSON(body, &req); err != nil {
			return out, err
		}
	}
	var v violations
	checkArnLabel(&v, arn)
	if req.CheckpointToken == nil {
		v.null("checkpointToken")
	} else {
		out.CheckpointToken = *req.CheckpointToken
		v.str("checkpointToken", *req.CheckpointToken, ruleCheckpointToken)
	}
	if req.ClientToken != nil {
		out.ClientToken = *req.ClientToken
		v.str("clientToken", *req.ClientToken, ruleClientToken)
	}
	for i := range req.Updates {
		checkOperationUpdate(&v, i, &req.Updates[i])
	}
	if err := v.err(); err != nil {
		return out, err
	}
	if err := checkUpdatePayloads(req.Updates); err != nil {
		return out, err
	}
	out.Updates = req.Updates
	if out.Updates == nil {
		out.Updates = []engine.OperationUpdate{}
	}
	return out, nil
}

// checkOperationUpdate validates the shape of one OperationUpdate. Whether
// the action suits the type, or the options suit the action, is the
// engine's business (protocol.md §5.2).
//
// A valid update, the common case, is checked against bare member names;
// the member paths ("updates.3.member.id") are only built to report a
// violation, as formatting them for every member of every update cost more
// than the checks.
func checkOperationUpdate(v *violations, i int, u *engine.OperationUpdate) {
	var probe violations
	checkOperationUpdateAt(&probe, func(field string) string { return field }, u)
	if len(probe) > 0 {
		checkOperationUpdateAt(v, func(field string) string { return memberPath("updates", i, field) }, u)
	}
}

// checkOperationUpdateAt checks u, naming its members with f.
func checkOperationUpdateAt(v *violations, f func(field string) string, u *engine.OperationUpdate) {
	v.required(f("id"), u.Id, ruleOperationID)
	v.optional(f("parentId"), u.ParentId, ruleOperationID)
	v.optional(f("name"), u.Name, ruleOperationName)
	v.requiredEnum(f("type"), u.Type, enumOperationType)
	v.optional(f("subType"), u.SubType, ruleOperationSubType)
	v.requiredEnum(f("action"), u.Action, enumOperationAction)
	if o := u.StepOptions; o != nil {
		v.optInt(f("stepOptions.nextAttemptDelaySeconds"), o.NextAttemptDelaySeconds, 1, maxDurationSeconds)
	}
	if o := u.WaitOptions; o != nil {
		v.optInt(f("waitOptions.waitSeconds"), o.WaitSeconds, 1, maxDurationSeconds)
	}
	if o := u.CallbackOptions; o != nil {
		v.optInt(f("callbackOptions.timeoutSeconds"), o.TimeoutSeconds, 0, maxCallbackTimeout)
		v.optInt(f("callbackOptions.heartbeatTimeoutSeconds"), o.HeartbeatTimeoutSeconds, 0, maxCallbackTimeout)
	}
	if o := u.ChainedInvokeOptions; o != nil {
		v.required(f("chainedInvokeOptions.functionName"), o.FunctionName, ruleNamespacedFunctionName)
		v.optional(f("chainedInvokeOptions.tenantId"), o.TenantId, ruleTenantID)
		v.optional(f("chainedInvokeOptions.xAmznTraceId"), o.XAmznTraceId, ruleXAmznTraceID)
	}
}

// checkUpdatePayloads enforces the per-update payload limits with AWS's
// wording. The EXECUTION update may carry the model's full 6 MiB because the
// SDKs checkpoint oversized results that way; every other update is held to
// the 256 KiB the service enforces.
func checkUpdatePayloads(updates []engine.OperationUpdate) error {
	for _, u := range updates {
		if u.Payload == nil {
			continue
		}
		limit := maxOperationPayload
		if u.Type == engine.OpExecution {
			limit = maxExecutionPayload
		}
		if len(*u.Payload) <= limit {
			continue
		}
		kind := "output"
		if u.Type == engine.OpChainedInvoke && u.Action == engine.ActionStart {
			kind = "input"
		}
		return invalidParameter(fmt.Sprintf("%s %s payload size must be less than or equal to %d bytes", u.Type, kind, limit))
	}
	return nil
}

// parseErrorObject decodes the ErrorObject body of Stop and callback
// failure. An empty body and "{}" both mean "no error object" (nil).
func parseErrorObject(body []byte) (*engine.ErrorObject, error) {
	var e engine.ErrorObject
	if err := decodeJSON(body, &e); err != nil {
		return nil, err
	}
	if e.ErrorMessage == nil && e.ErrorType == nil && e.ErrorData == nil && len(e.StackTrace) == 0 {
		return nil, nil
	}
	return &e, nil
}

// parseCallbackResult checks a callback success body, the raw Result blob.
// An over-limit body is a constraint violation of BinaryOperationPayload,
// reported as InvalidParameterValueException (it is in the operation's error
// list; RequestTooLargeException is not). An empty body means no Result.
func parseCallbackResult(body []byte, tooLarge bool) ([]byte, error) {
	if tooLarge {
		var v violations
		present := "" // the blob exists but is never echoed (sensitive)
		v.add("result", &present, true, fmt.Sprintf("Member must have length less than or equal to %d", maxCallbackResult))
		return nil, v.err()
	}
	if len(body) == 0 {
		return nil, nil
	}
	return body, nil
}

// invokeRequest is a decoded Invoke request, minus the payload.
type invokeRequest struct {
	start          engine.StartInput
	invocationType string
	// payloadLimit is 6 MB for RequestResponse and DryRun, 1 MB for Event.
	payloadLimit int64
}

// Invoke headers.
const (
	headerInvocationType = "X-Amz-Invocation-Type"
	headerLogType        = "X-Amz-Log-Type"
	headerClientContext  = "X-Amz-Client-Context"
	headerExecutionName  = "X-Amz-Durable-Execution-Name"
	headerTenantID       = "X-Amz-Tenant-Id"
	headerTraceID        = "X-Amzn-Trace-Id"
	headerExecutionArn   = "X-Amz-Durable-Execution-Arn"
	headerExecutedVer    = "X-Amz-Executed-Version"
	headerFunctionError  = "X-Amz-Function-Error"
)

// Invocation types.
const (
	invocationRequestResponse = "RequestResponse"
	invocationEvent           = "Event"
	invocationDryRun          = "DryRun"
)

// parseInvoke decodes Invoke's label, query and headers. An empty header is
// treated as absent: clients omit unset members.
func parseInvoke(functionName string, q query, h http.Header) (invokeRequest, error) {
	out := invokeRequest{
		start: engine.StartInput{
			FunctionName: functionName,
			Name:         h.Get(headerExecutionName),
			TenantID:     h.Get(headerTenantID),
			TraceID:      h.Get(headerTraceID),
		},
		invocationType: h.Get(headerInvocationType),
	}
	if out.invocationType == "" {
		out.invocationType = invocationRequestResponse
	}
	var v violations
	v.required("functionName", functionName, ruleNamespacedFunctionName)
	if s, ok := q.str("Qualifier"); ok {
		out.start.Qualifier = s
		v.str("qualifier", s, ruleQualifier)
	}
	v.enum("invocationType", out.invocationType, enumInvocationType)
	if s := h.Get(headerLogType); s != "" {
		v.enum("logType", s, enumLogType)
	}
	v.nonEmpty("durableExecutionName", out.start.Name, ruleDurableExecutionName)
	v.nonEmpty("tenantId", out.start.TenantID, ruleTenantID)
	if err := v.err(); err != nil {
		return out, err
	}
	if cc := h.Get(headerClientContext); cc != "" {
		if err := checkClientContext(cc); err != nil {
			return out, err
		}
	}
	out.payloadLimit = maxSyncInvokePayload
	if out.invocationType == invocationEvent {
		out.payloadLimit = maxAsyncInvokePayload
	}
	return out, nil
}

// checkClientContext checks X-Amz-Client-Context: base64, at most 3583
// bytes. Duro does not pass it on (engine.StartInput has no member for it),
// but a malformed value is still the caller's error.
func checkClientContext(cc string) error {
	if len(cc) > maxClientContextBytes {
		return newError(shapeInvalidRequestContent,
			fmt.Sprintf("Client context must be at most %d bytes of Base64-encoded data", maxClientContextBytes))
	}
	if _, err := base64.StdEncoding.DecodeString(cc); err != nil {
		return newError(shapeInvalidRequestContent, "Client context must be a valid Base64-encoded JSON object.")
	}
	return nil
}
