package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/duro-run/duro/internal/engine"
)

// errorShape is one AWS error shape as Lambda puts it on the wire
// (protocol.md §2.5): the code travels in x-amzn-ErrorType, the body carries
// the fault class in Type and the message under the member name the model
// gives the shape.
type errorShape struct {
	// name is the model's shape name, sent as x-amzn-ErrorType and __type.
	name string
	// status is the model's httpStatusCode.
	status int
	// lowerMessage selects the body member "message"; the model spells it
	// "Message" on the other shapes. Clients look the member up by exact
	// name (botocore tries "message" first, JS "message ?? Message").
	lowerMessage bool
	// fault marks server faults: body Type "Service" instead of "User".
	fault bool
}

// The error shapes Duro sends. Message casing follows each shape's members
// in lambda-durable-model.json.
var (
	shapeInvalidParameter      = errorShape{name: "InvalidParameterValueException", status: http.StatusBadRequest, lowerMessage: true}
	shapeInvalidRequestContent = errorShape{name: "InvalidRequestContentException", status: http.StatusBadRequest, lowerMessage: true}
	shapeNotFound              = errorShape{name: "ResourceNotFoundException", status: http.StatusNotFound}
	shapeCallbackTimeout       = errorShape{name: "CallbackTimeoutException", status: http.StatusBadRequest}
	shapeAlreadyStarted        = errorShape{name: "DurableExecutionAlreadyStartedException", status: http.StatusConflict}
	shapeResourceConflict      = errorShape{name: "ResourceConflictException", status: http.StatusConflict, lowerMessage: true}
	shapeTooManyRequests       = errorShape{name: "TooManyRequestsException", status: http.StatusTooManyRequests, lowerMessage: true}
	shapeRequestTooLarge       = errorShape{name: "RequestTooLargeException", status: http.StatusRequestEntityTooLarge, lowerMessage: true}
	shapeService               = errorShape{name: "ServiceException", status: http.StatusInternalServerError, fault: true}
	// shapeUnknownOperation is not in the Lambda model; it is what AWS
	// restJson1 front ends answer for a path that names no operation.
	shapeUnknownOperation = errorShape{name: "UnknownOperationException", status: http.StatusNotFound}
)

// serviceFaultMessage is the public text of a fault whose cause is internal.
const serviceFaultMessage = "An internal error occurred. Please retry the request."

// shapeForKind maps an engine error kind to its AWS shape.
func shapeForKind(k engine.Kind) errorShape {
	switch k {
	case engine.KindInvalidParameter:
		return shapeInvalidParameter
	case engine.KindNotFound:
		return shapeNotFound
	case engine.KindCallbackTimeout:
		return shapeCallbackTimeout
	case engine.KindAlreadyStarted:
		return shapeAlreadyStarted
	case engine.KindResourceConflict:
		return shapeResourceConflict
	case engine.KindTooManyRequests:
		return shapeTooManyRequests
	case engine.KindRequestTooLarge:
		return shapeRequestTooLarge
	default:
		return shapeService
	}
}

// apiError is an error the wire layer raises itself: a malformed request, a
// constraint violation, an unknown route.
type apiError struct {
	shape   errorShape
	message string
}

func (e *apiError) Error() string { return e.shape.name + ": " + e.message }

// newError builds an apiError.
func newError(shape errorShape, message string) *apiError {
	return &apiError{shape: shape, message: message}
}

// invalidParameter builds an InvalidParameterValueException.
func invalidParameter(message string) *apiError {
	return newError(shapeInvalidParameter, message)
}

// errorBody is the JSON body of an error response. Exactly one of the two
// message members is set, as the shape dictates. __type repeats the code so
// it survives proxies that strip x-amzn-ErrorType.
type errorBody struct {
	Type         string  `json:"Type"`
	LowerMessage *string `json:"message,omitempty"`
	UpperMessage *string `json:"Message,omitempty"`
	Code         string  `json:"__type"`
}

// classify turns any handler error into a shape and a public message.
// Engine *Error messages are public by design (the cause is kept apart);
// anything else is an unexpected fault whose text must not reach the client.
func classify(err error) (shape errorShape, message string, internal bool) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.shape, ae.message, false
	}
	var ee *engine.Error
	if errors.As(err, &ee) {
		shape = shapeForKind(ee.Kind)
		message = ee.Message
		if shape.fault && message == "" {
			message = serviceFaultMessage
		}
		return shape, message, shape.fault
	}
	return shapeService, serviceFaultMessage, true
}

// writeError encodes err as an AWS error response and logs it: faults at
// error level with their cause, client errors at debug level.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, op string, err error) {
	shape, message, internal := classify(err)
	ctx := r.Context()
	attrs := []any{
		"requestId", requestID(w), "op", op, "method", r.Method,
		"path", r.URL.EscapedPath(), "errorType", shape.name,
	}
	switch {
	case internal && ctx.Err() != nil:
		// The client went away mid-request; the fault is almost certainly
		// the cancelled context, not a server problem.
		s.log.DebugContext(ctx, "request cancelled", append(attrs, "err", err)...)
	case internal:
		s.log.ErrorContext(ctx, "service fault", append(attrs, "err", err)...)
	default:
		s.log.DebugContext(ctx, "client error", append(attrs, "message", message)...)
	}
	writeErrorBody(w, shape, message)
}

// writeErrorBody writes the status, headers and body of an error.
func writeErrorBody(w http.ResponseWriter, shape errorShape, message string) {
	body := errorBody{Type: "User", Code: shape.name}
	if shape.fault {
		body.Type = "Service"
	}
	if shape.lowerMessage {
		body.LowerMessage = &message
	} else {
		body.UpperMessage = &message
	}
	b, err := marshalJSON(body)
	if err != nil {
		// Only strings are encoded; this cannot fail. Fall back to a
		// body-less error rather than panicking in the error path.
		b = []byte("{}")
	}
	w.Header().Set("x-amzn-ErrorType", shape.name)
	writeRaw(w, shape.status, "application/json", b)
}

// marshalJSON encodes v without HTML escaping, so payload strings keep
// their <, > and & verbatim, and without the Encoder's trailing newline.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
