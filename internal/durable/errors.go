package durable

import (
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Error is an error with an AWS ErrorObject's members. Return one from a
// step or handler to control the ErrorType recorded in history; durable
// operations that ended badly (a failed step, a failed or timed-out
// callback, a failed chained invoke) return one built from the stored
// ErrorObject. Any other error is recorded with ErrorType "Error".
type Error struct {
	Type       string
	Message    string
	Data       string
	StackTrace []string
	// Status is the operation status that produced the error on replay
	// ("FAILED", "TIMED_OUT", "STOPPED"...); empty for user errors.
	Status string
}

func (e *Error) Error() string {
	if e.Type == "" {
		return e.Message
	}
	return e.Type + ": " + e.Message
}

// errorObject converts any error to the wire ErrorObject of a handler output.
func errorObject(err error) *ErrorObject {
	var e *Error
	if errors.As(err, &e) {
		return &ErrorObject{ErrorType: e.Type, ErrorMessage: e.Message, ErrorData: e.Data, StackTrace: e.StackTrace}
	}
	return &ErrorObject{ErrorType: "Error", ErrorMessage: err.Error()}
}

// sdkError converts any error to the SDK ErrorObject of a checkpoint update,
// omitting empty members.
func sdkError(err error) *types.ErrorObject {
	eo := errorObject(err)
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return aws.String(s)
	}
	return &types.ErrorObject{ErrorType: opt(eo.ErrorType), ErrorMessage: opt(eo.ErrorMessage), ErrorData: opt(eo.ErrorData), StackTrace: eo.StackTrace}
}

// fromSDK builds an Error from a stored ErrorObject.
func fromSDK(eo *types.ErrorObject, status types.OperationStatus) *Error {
	e := &Error{Status: string(status)}
	if eo != nil {
		e.Type, e.Message, e.Data, e.StackTrace = aws.ToString(eo.ErrorType), aws.ToString(eo.ErrorMessage), aws.ToString(eo.ErrorData), eo.StackTrace
	}
	if e.Type == "" && e.Message == "" {
		e.Message = "operation ended with status " + string(status)
	}
	return e
}
