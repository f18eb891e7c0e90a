package engine

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// Timestamp is a point in time that encodes in JSON as epoch seconds with
// millisecond precision, the form AWS uses in API response bodies
// (protocol.md §2.2). ISO strings would break the Go and JS clients.
type Timestamp time.Time

// NewTimestamp converts a time.Time.
func NewTimestamp(t time.Time) Timestamp { return Timestamp(t) }

// TimestampPtr returns a pointer to t's Timestamp, or nil for the zero time.
func TimestampPtr(t time.Time) *Timestamp {
	if t.IsZero() {
		return nil
	}
	ts := Timestamp(t)
	return &ts
}

// Time returns the time.Time.
func (t Timestamp) Time() time.Time { return time.Time(t) }

// MarshalJSON encodes epoch seconds, e.g. 1767323045.123.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	if ms%1000 == 0 {
		return strconv.AppendInt(nil, ms/1000, 10), nil
	}
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', -1, 64), nil
}

// UnmarshalJSON accepts epoch seconds (integer or fractional).
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	sec, frac := math.Modf(f)
	*t = Timestamp(time.Unix(int64(sec), int64(math.Round(frac*1000))*int64(time.Millisecond)))
	return nil
}

// EpochMillis is a point in time that encodes as integer epoch milliseconds,
// the form of the invocation envelope sent to functions (protocol.md §4.3).
type EpochMillis time.Time

// MarshalJSON encodes integer epoch milliseconds.
func (t EpochMillis) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, time.Time(t).UnixMilli(), 10), nil
}

// UnmarshalJSON decodes integer epoch milliseconds.
func (t *EpochMillis) UnmarshalJSON(b []byte) error {
	var ms int64
	if err := json.Unmarshal(b, &ms); err != nil {
		return err
	}
	*t = EpochMillis(time.UnixMilli(ms))
	return nil
}

// Execution statuses.
const (
	StatusRunning   = "RUNNING"
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusTimedOut  = "TIMED_OUT"
	StatusStopped   = "STOPPED"
)

// Operation types.
const (
	OpExecution     = "EXECUTION"
	OpContext       = "CONTEXT"
	OpStep          = "STEP"
	OpWait          = "WAIT"
	OpCallback      = "CALLBACK"
	OpChainedInvoke = "CHAINED_INVOKE"
)

// Operation actions.
const (
	ActionStart   = "START"
	ActionSucceed = "SUCCEED"
	ActionFail    = "FAIL"
	ActionRetry   = "RETRY"
	ActionCancel  = "CANCEL"
)

// Operation statuses.
const (
	OpStarted   = "STARTED"
	OpPending   = "PENDING"
	OpReady     = "READY"
	OpSucceeded = "SUCCEEDED"
	OpFailed    = "FAILED"
	OpCancelled = "CANCELLED"
	OpTimedOut  = "TIMED_OUT"
	OpStopped   = "STOPPED"
)

// ErrorObject is AWS's ErrorObject shape. Every member is optional; pointers
// keep an explicitly empty string distinct from an absent member, because
// histories echo the object byte for byte.
type ErrorObject struct {
	ErrorMessage *string  `json:"ErrorMessage,omitempty"`
	ErrorType    *string  `json:"ErrorType,omitempty"`
	ErrorData    *string  `json:"ErrorData,omitempty"`
	StackTrace   []string `json:"StackTrace,omitempty"`
}

// NewError builds an ErrorObject from a type and a message.
func NewError(errorType, message string) *ErrorObject {
	return &ErrorObject{ErrorType: &errorType, ErrorMessage: &message}
}

// DurableConfig is a function's durable configuration.
type DurableConfig struct {
	ExecutionTimeout      *int32  `json:"ExecutionTimeout,omitempty"`
	RetentionPeriodInDays *int32  `json:"RetentionPeriodInDays,omitempty"`
	KMSKeyArn             *string `json:"KMSKeyArn,omitempty"`
}

// TraceHeader carries the X-Ray trace id of an execution.
type TraceHeader struct {
	XAmznTraceId *string `json:"XAmznTraceId,omitempty"`
}

// ExecutionDescription is the GetDurableExecution response.
type ExecutionDescription struct {
	DurableExecutionArn   string         `json:"DurableExecutionArn"`
	DurableExecutionName  string         `json:"DurableExecutionName"`
	FunctionArn           string         `json:"FunctionArn"`
	Status                string         `json:"Status"`
	StartTimestamp        Timestamp      `json:"StartTimestamp"`
	EndTimestamp          *Timestamp     `json:"EndTimestamp,omitempty"`
	InputPayload          *string        `json:"InputPayload,omitempty"`
	Result                *string        `json:"Result,omitempty"`
	Error                 *ErrorObject   `json:"Error,omitempty"`
	Version               string         `json:"Version,omitempty"`
	TraceHeader           *TraceHeader   `json:"TraceHeader,omitempty"`
	ExecutionDataIncluded *bool          `json:"ExecutionDataIncluded,omitempty"`
	DurableConfig         *DurableConfig `json:"DurableConfig,omitempty"`
}

// ExecutionSummary is one item of ListDurableExecutionsByFunction.
type ExecutionSummary struct {
	DurableExecutionArn  string     `json:"DurableExecutionArn"`
	DurableExecutionName string     `json:"DurableExecutionName"`
	FunctionArn          string     `json:"FunctionArn"`
	Status               string     `json:"Status"`
	StartTimestamp       Timestamp  `json:"StartTimestamp"`
	EndTimestamp         *Timestamp `json:"EndTimestamp,omitempty"`
	KMSKeyArn            *string    `json:"KMSKeyArn,omitempty"`
}

// ExecutionDetails of the EXECUTION operation.
type ExecutionDetails struct {
	InputPayload *string `json:"InputPayload,omitempty"`
}

// ContextDetails of a CONTEXT operation.
type ContextDetails struct {
	ReplayChildren *bool        `json:"ReplayChildren,omitempty"`
	Result         *string      `json:"Result,omitempty"`
	Error          *ErrorObject `json:"Error,omitempty"`
}

// StepDetails of a STEP operation.
type StepDetails struct {
	Attempt              int32        `json:"Attempt"`
	NextAttemptTimestamp *Timestamp   `json:"NextAttemptTimestamp,omitempty"`
	Result               *string      `json:"Result,omitempty"`
	Error                *ErrorObject `json:"Error,omitempty"`
}

// WaitDetails of a WAIT operation.
type WaitDetails struct {
	ScheduledEndTimestamp *Timestamp `json:"ScheduledEndTimestamp,omitempty"`
}

// CallbackDetails of a CALLBACK operation.
type CallbackDetails struct {
	CallbackId *string      `json:"CallbackId,omitempty"`
	Result     *string      `json:"Result,omitempty"`
	Error      *ErrorObject `json:"Error,omitempty"`
}

// ChainedInvokeDetails of a CHAINED_INVOKE operation.
type ChainedInvokeDetails struct {
	Result *string      `json:"Result,omitempty"`
	Error  *ErrorObject `json:"Error,omitempty"`
}

// Operation is the state of one operation as GetDurableExecutionState and
// checkpoint responses return it.
type Operation struct {
	Id                   string                `json:"Id"`
	ParentId             string                `json:"ParentId,omitempty"`
	Name                 string                `json:"Name,omitempty"`
	Type                 string                `json:"Type"`
	SubType              string                `json:"SubType,omitempty"`
	StartTimestamp       Timestamp             `json:"StartTimestamp"`
	EndTimestamp         *Timestamp            `json:"EndTimestamp,omitempty"`
	Status               string                `json:"Status"`
	ExecutionDetails     *ExecutionDetails     `json:"ExecutionDetails,omitempty"`
	ContextDetails       *ContextDetails       `json:"ContextDetails,omitempty"`
	StepDetails          *StepDetails          `json:"StepDetails,omitempty"`
	WaitDetails          *WaitDetails          `json:"WaitDetails,omitempty"`
	CallbackDetails      *CallbackDetails      `json:"CallbackDetails,omitempty"`
	ChainedInvokeDetails *ChainedInvokeDetails `json:"ChainedInvokeDetails,omitempty"`
}

// ContextOptions of a CONTEXT update.
type ContextOptions struct {
	ReplayChildren *bool `json:"ReplayChildren,omitempty"`
}

// StepOptions of a STEP RETRY update.
type StepOptions struct {
	NextAttemptDelaySeconds *int32 `json:"NextAttemptDelaySeconds,omitempty"`
}

// WaitOptions of a WAIT START update.
type WaitOptions struct {
	WaitSeconds *int32 `json:"WaitSeconds,omitempty"`
}

// CallbackOptions of a CALLBACK START update. Zero or absent disables a timer.
type CallbackOptions struct {
	TimeoutSeconds          *int32 `json:"TimeoutSeconds,omitempty"`
	HeartbeatTimeoutSeconds *int32 `json:"HeartbeatTimeoutSeconds,omitempty"`
}

// ChainedInvokeOptions of a CHAINED_INVOKE START update.
type ChainedInvokeOptions struct {
	FunctionName string  `json:"FunctionName"`
	TenantId     *string `json:"TenantId,omitempty"`
	XAmznTraceId *string `json:"XAmznTraceId,omitempty"`
}

// OperationUpdate is one update of a CheckpointDurableExecution request.
type OperationUpdate struct {
	Id                   string                `json:"Id"`
	ParentId             *string               `json:"ParentId,omitempty"`
	Name                 *string               `json:"Name,omitempty"`
	Type                 string                `json:"Type"`
	SubType              *string               `json:"SubType,omitempty"`
	Action               string                `json:"Action"`
	Payload              *string               `json:"Payload,omitempty"`
	Error                *ErrorObject          `json:"Error,omitempty"`
	ContextOptions       *ContextOptions       `json:"ContextOptions,omitempty"`
	StepOptions          *StepOptions          `json:"StepOptions,omitempty"`
	WaitOptions          *WaitOptions          `json:"WaitOptions,omitempty"`
	CallbackOptions      *CallbackOptions      `json:"CallbackOptions,omitempty"`
	ChainedInvokeOptions *ChainedInvokeOptions `json:"ChainedInvokeOptions,omitempty"`
}

// CheckpointInput is a CheckpointDurableExecution request, after the wire
// layer has checked shapes and lengths.
type CheckpointInput struct {
	DurableExecutionArn string
	CheckpointToken     string
	ClientToken         string
	Updates             []OperationUpdate
}

// ExecutionState is a page of operations.
type ExecutionState struct {
	Operations []Operation `json:"Operations"`
	NextMarker string      `json:"NextMarker,omitempty"`
}

// CheckpointOutput is the CheckpointDurableExecution response.
type CheckpointOutput struct {
	CheckpointToken   *string        `json:"CheckpointToken,omitempty"`
	NewExecutionState ExecutionState `json:"NewExecutionState"`
}

// EventInput wraps an input payload in a history event.
type EventInput struct {
	Payload   *string `json:"Payload,omitempty"`
	Truncated bool    `json:"Truncated"`
}

// EventResult wraps a result payload in a history event.
type EventResult struct {
	Payload   *string `json:"Payload,omitempty"`
	Truncated bool    `json:"Truncated"`
}

// EventError wraps an error in a history event.
type EventError struct {
	Payload   *ErrorObject `json:"Payload,omitempty"`
	Truncated bool         `json:"Truncated"`
}

// RetryDetails of a step event.
type RetryDetails struct {
	CurrentAttempt          int32  `json:"CurrentAttempt"`
	NextAttemptDelaySeconds *int32 `json:"NextAttemptDelaySeconds,omitempty"`
}

// Empty is a details shape with no members; it encodes as {}.
type Empty struct{}

// Event details shapes, named as in the AWS model.
type (
	// ExecutionStartedDetails of ExecutionStarted.
	ExecutionStartedDetails struct {
		Input            EventInput `json:"Input"`
		ExecutionTimeout int32      `json:"ExecutionTimeout"`
	}
	// ResultDetails is the shape of every *SucceededDetails event detail.
	ResultDetails struct {
		Result EventResult `json:"Result"`
	}
	// ErrorDetails is the shape of every *Failed/*TimedOut/*Stopped detail.
	ErrorDetails struct {
		Error EventError `json:"Error"`
	}
	// OptionalErrorDetails is an error detail whose Error may be absent.
	OptionalErrorDetails struct {
		Error *EventError `json:"Error,omitempty"`
	}
	// StepResultDetails of StepSucceeded.
	StepResultDetails struct {
		Result       EventResult  `json:"Result"`
		RetryDetails RetryDetails `json:"RetryDetails"`
	}
	// StepErrorDetails of StepFailed.
	StepErrorDetails struct {
		Error        EventError   `json:"Error"`
		RetryDetails RetryDetails `json:"RetryDetails"`
	}
	// WaitStartedDetails of WaitStarted.
	WaitStartedDetails struct {
		Duration              int32     `json:"Duration"`
		ScheduledEndTimestamp Timestamp `json:"ScheduledEndTimestamp"`
	}
	// WaitSucceededDetails of WaitSucceeded.
	WaitSucceededDetails struct {
		Duration *int32 `json:"Duration,omitempty"`
	}
	// CallbackStartedDetails of CallbackStarted.
	CallbackStartedDetails struct {
		CallbackId       string `json:"CallbackId"`
		HeartbeatTimeout *int32 `json:"HeartbeatTimeout,omitempty"`
		Timeout          *int32 `json:"Timeout,omitempty"`
	}
	// ChainedInvokeStartedDetails of ChainedInvokeStarted.
	ChainedInvokeStartedDetails struct {
		FunctionName        string      `json:"FunctionName"`
		TenantId            *string     `json:"TenantId,omitempty"`
		Input               *EventInput `json:"Input,omitempty"`
		ExecutedVersion     *string     `json:"ExecutedVersion,omitempty"`
		DurableExecutionArn *string     `json:"DurableExecutionArn"`
	}
	// InvocationCompletedDetails of InvocationCompleted.
	InvocationCompletedDetails struct {
		StartTimestamp Timestamp   `json:"StartTimestamp"`
		EndTimestamp   Timestamp   `json:"EndTimestamp"`
		RequestId      string      `json:"RequestId"`
		Error          *EventError `json:"Error,omitempty"`
	}
)

// Event is one history event. Exactly one details member is set, named
// after EventType.
type Event struct {
	EventType      string    `json:"EventType"`
	SubType        string    `json:"SubType,omitempty"`
	EventId        int64     `json:"EventId"`
	Id             string    `json:"Id,omitempty"`
	Name           string    `json:"Name,omitempty"`
	EventTimestamp Timestamp `json:"EventTimestamp"`
	ParentId       string    `json:"ParentId,omitempty"`

	ExecutionStartedDetails       *ExecutionStartedDetails     `json:"ExecutionStartedDetails,omitempty"`
	ExecutionSucceededDetails     *ResultDetails               `json:"ExecutionSucceededDetails,omitempty"`
	ExecutionFailedDetails        *ErrorDetails                `json:"ExecutionFailedDetails,omitempty"`
	ExecutionTimedOutDetails      *OptionalErrorDetails        `json:"ExecutionTimedOutDetails,omitempty"`
	ExecutionStoppedDetails       *ErrorDetails                `json:"ExecutionStoppedDetails,omitempty"`
	ContextStartedDetails         *Empty                       `json:"ContextStartedDetails,omitempty"`
	ContextSucceededDetails       *ResultDetails               `json:"ContextSucceededDetails,omitempty"`
	ContextFailedDetails          *ErrorDetails                `json:"ContextFailedDetails,omitempty"`
	WaitStartedDetails            *WaitStartedDetails          `json:"WaitStartedDetails,omitempty"`
	WaitSucceededDetails          *WaitSucceededDetails        `json:"WaitSucceededDetails,omitempty"`
	WaitCancelledDetails          *OptionalErrorDetails        `json:"WaitCancelledDetails,omitempty"`
	StepStartedDetails            *Empty                       `json:"StepStartedDetails,omitempty"`
	StepSucceededDetails          *StepResultDetails           `json:"StepSucceededDetails,omitempty"`
	StepFailedDetails             *StepErrorDetails            `json:"StepFailedDetails,omitempty"`
	ChainedInvokeStartedDetails   *ChainedInvokeStartedDetails `json:"ChainedInvokeStartedDetails,omitempty"`
	ChainedInvokeSucceededDetails *ResultDetails               `json:"ChainedInvokeSucceededDetails,omitempty"`
	ChainedInvokeFailedDetails    *ErrorDetails                `json:"ChainedInvokeFailedDetails,omitempty"`
	ChainedInvokeTimedOutDetails  *ErrorDetails                `json:"ChainedInvokeTimedOutDetails,omitempty"`
	ChainedInvokeStoppedDetails   *ErrorDetails                `json:"ChainedInvokeStoppedDetails,omitempty"`
	CallbackStartedDetails        *CallbackStartedDetails      `json:"CallbackStartedDetails,omitempty"`
	CallbackSucceededDetails      *ResultDetails               `json:"CallbackSucceededDetails,omitempty"`
	CallbackFailedDetails         *ErrorDetails                `json:"CallbackFailedDetails,omitempty"`
	CallbackTimedOutDetails       *ErrorDetails                `json:"CallbackTimedOutDetails,omitempty"`
	InvocationCompletedDetails    *InvocationCompletedDetails  `json:"InvocationCompletedDetails,omitempty"`
}

// HistoryPage is a GetDurableExecutionHistory response.
type HistoryPage struct {
	Events     []Event `json:"Events"`
	NextMarker string  `json:"NextMarker,omitempty"`
}

// ExecutionList is a ListDurableExecutionsByFunction response.
type ExecutionList struct {
	DurableExecutions []ExecutionSummary `json:"DurableExecutions"`
	NextMarker        string             `json:"NextMarker,omitempty"`
}

// clone copies an operation with its detail structs, so that a response
// being encoded never shares memory with state that later changes.
func (op Operation) clone() Operation {
	if d := op.ExecutionDetails; d != nil {
		c := *d
		op.ExecutionDetails = &c
	}
	if d := op.ContextDetails; d != nil {
		c := *d
		op.ContextDetails = &c
	}
	if d := op.StepDetails; d != nil {
		c := *d
		op.StepDetails = &c
	}
	if d := op.WaitDetails; d != nil {
		c := *d
		op.WaitDetails = &c
	}
	if d := op.CallbackDetails; d != nil {
		c := *d
		op.CallbackDetails = &c
	}
	if d := op.ChainedInvokeDetails; d != nil {
		c := *d
		op.ChainedInvokeDetails = &c
	}
	return op
}
