package engine

import (
	"context"
	"time"
)

// Invocation is one call of a function, as the engine asks an Invoker to
// make it. For a durable function Payload is the invocation envelope.
type Invocation struct {
	Function            FunctionConfiguration
	RequestID           string
	Payload             []byte
	Deadline            time.Time
	TenantID            string
	TraceID             string
	DurableExecutionArn string
	// Endpoint overrides where the function runs (StartInput.InvokeEndpoint).
	Endpoint string
}

// InvocationResponse is what the function returned.
type InvocationResponse struct {
	Payload []byte
	// FunctionError is "Unhandled" or "Handled" when the function raised an
	// error (Lambda's X-Amz-Function-Error), empty otherwise.
	FunctionError string
}

// InvocationError is an Invoker failure attributable to the function's
// sandbox: the process exited, the invocation timed out, the endpoint could
// not be reached. Type follows Lambda's names ("Runtime.ExitError",
// "Sandbox.Timedout").
type InvocationError struct {
	Type    string
	Message string
}

func (e *InvocationError) Error() string { return e.Type + ": " + e.Message }

// CodeStore keeps function code where runtimes can load it. The engine
// hands it the archives that CreateFunction and UpdateFunctionCode carry.
type CodeStore interface {
	// SaveZip stores a function's code archive and says where it lives.
	SaveZip(ctx context.Context, function string, zip []byte) (CodeInfo, error)
}

// CodeInfo describes stored function code.
type CodeInfo struct {
	// Location is opaque to the engine (for the local runtimes, a
	// directory holding the unpacked code).
	Location string
	Sha256   string // base64 of the archive's SHA-256, as Lambda reports it
	Size     int64
}

// Invoker runs functions. The engine defines it so that it never depends on
// how functions run (in-process, local processes, remote endpoints).
type Invoker interface {
	Invoke(ctx context.Context, inv Invocation) (InvocationResponse, error)
}
