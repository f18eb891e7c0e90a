package engine

import (
	"context"
	"time"
)

// StartInput is a request to start (or idempotently find) a durable
// execution, as the Invoke API carries it.
type StartInput struct {
	// FunctionName is the Invoke label: a name, partial ARN or ARN, possibly
	// qualified ("fn:1").
	FunctionName string
	// Qualifier is the ?Qualifier= query value; empty when absent.
	Qualifier string
	// Name is X-Amz-Durable-Execution-Name; empty to generate one.
	Name     string
	Payload  []byte
	TenantID string
	TraceID  string
	// InvokeEndpoint, when set, is a Lambda-compatible endpoint that every
	// invocation of this execution goes to (POST {endpoint}/2015-03-31/
	// functions/{function}/invocations) instead of the function's runtime:
	// how AWS's local emulator, and so SAM CLI, runs functions in containers.
	InvokeEndpoint string
}

// StartOutput identifies the started (or existing) execution.
type StartOutput struct {
	DurableExecutionArn string
	ExecutedVersion     string
	FunctionArn         string
	// Existing is true when an execution with the same name and payload was
	// already there and no new one was started.
	Existing bool
}

// HistoryQuery is a GetDurableExecutionHistory request.
type HistoryQuery struct {
	DurableExecutionArn  string
	IncludeExecutionData bool
	MaxItems             int
	Marker               string
	ReverseOrder         bool
}

// StateQuery is a GetDurableExecutionState request.
type StateQuery struct {
	DurableExecutionArn string
	CheckpointToken     string
	Marker              string
	MaxItems            int
}

// ListQuery is a ListDurableExecutionsByFunction request.
type ListQuery struct {
	FunctionName  string
	Qualifier     string
	Name          string
	Statuses      []string
	StartedAfter  time.Time
	StartedBefore time.Time
	// ReverseOrder true lists oldest first (the API's default is newest first).
	ReverseOrder bool
	Marker       string
	MaxItems     int
}

// Service is what the wire layer needs from the engine. *Engine implements it.
type Service interface {
	CreateFunction(ctx context.Context, in CreateFunctionInput) (FunctionConfiguration, error)
	GetFunction(ctx context.Context, name, qualifier string) (GetFunctionOutput, error)
	GetFunctionConfiguration(ctx context.Context, name, qualifier string) (FunctionConfiguration, error)
	UpdateFunctionConfiguration(ctx context.Context, name string, in UpdateFunctionConfigurationInput) (FunctionConfiguration, error)
	DeleteFunction(ctx context.Context, name, qualifier string) error
	ListFunctions(ctx context.Context, marker string, maxItems int) (FunctionList, error)
	ListVersionsByFunction(ctx context.Context, name, marker string, maxItems int) (FunctionList, error)
	PublishVersion(ctx context.Context, name, description string) (FunctionConfiguration, error)
	UpdateFunctionCode(ctx context.Context, name string, in UpdateFunctionCodeInput) (FunctionConfiguration, error)

	// StartExecution starts a durable execution (Invoke).
	StartExecution(ctx context.Context, in StartInput) (StartOutput, error)
	// InvokePlain invokes a function that is not durable (StartExecution
	// answered ErrNotDurable) once.
	InvokePlain(ctx context.Context, in StartInput) (InvocationResponse, FunctionConfiguration, error)
	// AwaitExecution blocks until the execution is terminal or ctx ends.
	AwaitExecution(ctx context.Context, arn string) (ExecutionDescription, error)

	GetExecution(ctx context.Context, arn string, includeData bool) (ExecutionDescription, error)
	GetHistory(ctx context.Context, q HistoryQuery) (HistoryPage, error)
	GetState(ctx context.Context, q StateQuery) (ExecutionState, error)
	Checkpoint(ctx context.Context, in CheckpointInput) (CheckpointOutput, error)
	ListExecutions(ctx context.Context, q ListQuery) (ExecutionList, error)
	StopExecution(ctx context.Context, arn string, cause *ErrorObject) (Timestamp, error)
	CallbackSuccess(ctx context.Context, callbackID string, result []byte) error
	CallbackFailure(ctx context.Context, callbackID string, cause *ErrorObject) error
	CallbackHeartbeat(ctx context.Context, callbackID string) error
}

var _ Service = (*Engine)(nil)
