package engine

import (
	"errors"
	"fmt"
)

// Kind classifies an engine error. The wire layer maps each kind to an AWS
// error type and HTTP status.
type Kind int

// Error kinds.
const (
	// KindService is an unexpected internal failure (ServiceException, 500).
	KindService Kind = iota
	// KindInvalidParameter is InvalidParameterValueException (400).
	KindInvalidParameter
	// KindNotFound is ResourceNotFoundException (404).
	KindNotFound
	// KindCallbackTimeout is CallbackTimeoutException (400).
	KindCallbackTimeout
	// KindAlreadyStarted is DurableExecutionAlreadyStartedException (409).
	KindAlreadyStarted
	// KindResourceConflict is ResourceConflictException (409).
	KindResourceConflict
	// KindTooManyRequests is TooManyRequestsException (429).
	KindTooManyRequests
	// KindRequestTooLarge is RequestTooLargeException (413).
	KindRequestTooLarge
)

// Error is an error the engine reports to API callers.
type Error struct {
	Kind    Kind
	Message string
	cause   error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s: %v", e.Message, e.cause)
	}
	return e.Message
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// Errorf builds an Error of a kind.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// internalError wraps an unexpected failure as a ServiceException.
func internalError(op string, err error) *Error {
	return &Error{Kind: KindService, Message: "Internal service error", cause: fmt.Errorf("%s: %w", op, err)}
}

// KindOf returns the kind of err: KindService unless err wraps an *Error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindService
}

// staleTokenPrefix starts every stale-token message. The SDKs test for it
// case-sensitively to tell a fenced invocation from an execution-fatal error.
const staleTokenPrefix = "Invalid Checkpoint Token"

func staleToken(detail string) *Error {
	return Errorf(KindInvalidParameter, "%s: %s", staleTokenPrefix, detail)
}
