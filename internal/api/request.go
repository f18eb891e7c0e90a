package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Request body limits. Bodies are read through a limit so that a huge body
// cannot exhaust memory; the Content-Length is checked first so an honest
// oversized request is refused without reading it.
const (
	// maxSyncInvokePayload is Lambda's synchronous Invoke payload limit.
	maxSyncInvokePayload = 6_291_456
	// maxAsyncInvokePayload is Lambda's asynchronous (Event) payload limit.
	maxAsyncInvokePayload = 1_048_576
	// maxCallbackResult is BinaryOperationPayload's model maximum (1 MiB,
	// the Go SDK's current documentation; older botocore said 256 KiB).
	maxCallbackResult = 1_048_576
	// maxCheckpointBody guards memory only. The SDKs batch updates at about
	// 750 KiB, but a lone EXECUTION SUCCEED update carries a result of up
	// to 6 MiB (protocol.md §4.5), which JSON escaping can double. The
	// per-update payload limits are checked after decoding.
	maxCheckpointBody = 16 << 20
	// maxErrorObjectBody bounds Stop and callback-failure bodies: the
	// ErrorObject's fields may total 1 MB (protocol.md §8), plus escaping.
	maxErrorObjectBody = 2 << 20
	// maxCreateFunctionBody is Lambda's CreateFunction request limit (a
	// 50 MB zip, base64-encoded, plus the rest of the request).
	maxCreateFunctionBody = 70_167_211
	// maxSmallBody bounds the other small JSON bodies.
	maxSmallBody = 1 << 20
)

// Per-update payload limits of CheckpointDurableExecution (protocol.md §8).
const (
	// maxOperationPayload is the limit AWS enforces on an update's
	// Payload ("STEP output payload size must be less than or equal to
	// 262144 bytes").
	maxOperationPayload = 262_144
	// maxExecutionPayload is OperationPayload's model maximum. It applies to
	// the EXECUTION update, which the SDKs use precisely for results too
	// large for the invocation response.
	maxExecutionPayload = 6_291_456
)

// errBodyTooLarge reports a body over its limit.
var errBodyTooLarge = errors.New("request body too large")

// readBody reads the whole request body, failing with errBodyTooLarge if it
// is longer than limit bytes.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, errBodyTooLarge
	}
	if r.Body == nil {
		return nil, nil
	}
	// A body that holds its bytes (a multiplexed request's frame: package
	// mux) is taken as it is, without a copy; nothing else writes to it.
	if held, ok := r.Body.(interface{ Bytes() []byte }); ok {
		b := held.Bytes()
		if int64(len(b)) > limit {
			return nil, errBodyTooLarge
		}
		return b, nil
	}
	b, err := readAll(io.LimitReader(r.Body, limit+1), r.ContentLength)
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, errBodyTooLarge
	}
	return b, nil
}

// readAll reads rd to its end, as io.ReadAll does, into a buffer sized
// for the length the request announced (when it did, and the body is not
// larger: one byte more shows the end), so that a body is read with one
// allocation instead of io.ReadAll's doublings from 512 bytes.
func readAll(rd io.Reader, announced int64) ([]byte, error) {
	if announced <= 0 || announced > maxPresizedBody {
		return io.ReadAll(rd)
	}
	b := make([]byte, 0, announced+1)
	for {
		n, err := rd.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // more than announced: grow as io.ReadAll would
		}
	}
}

// maxPresizedBody bounds what readAll allocates on a request's word alone.
const maxPresizedBody = 1 << 20

// readBodyFor reads a body and turns failures into AWS errors: too large is
// RequestTooLargeException with Lambda's message, a broken read is a 400.
func readBodyFor(r *http.Request, limit int64, op string) ([]byte, error) {
	b, err := readBody(r, limit)
	switch {
	case errors.Is(err, errBodyTooLarge):
		return nil, newError(shapeRequestTooLarge,
			fmt.Sprintf("Request must be smaller than %d bytes for the %s operation", limit, op))
	case err != nil:
		if r.Context().Err() != nil {
			return nil, err
		}
		return nil, invalidParameter("Could not read the request body")
	}
	return b, nil
}

// decodeJSON decodes a JSON object body into v. An empty (or all-blank) body
// is the same as "{}": v keeps its zero value. Unknown members are tolerated,
// as a server must be for forward compatibility; trailing data after the
// value is an error. Messages never mention Go types or struct names.
func decodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return invalidParameter(jsonErrorMessage(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return invalidParameter("Could not parse request body into json: unexpected data after the top-level value")
	}
	return nil
}

// jsonErrorMessage phrases a decoding error for the client.
func jsonErrorMessage(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("Could not parse request body into json: %s (at offset %d)", syn.Error(), syn.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "the request body"
		} else {
			field = "member '" + field + "'"
		}
		return fmt.Sprintf("Could not parse request body into json: invalid value for %s: expected %s, got %s",
			field, jsonTypeName(typ.Type), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "Could not parse request body into json: unexpected end of input"
	default:
		return "Could not parse request body into json: " + strings.TrimPrefix(err.Error(), "json: ")
	}
}

// jsonTypeName names a Go type the way a JSON user thinks of it.
func jsonTypeName(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64 string"
		}
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	default:
		return "a value"
	}
}

// query gives typed access to a request's query string. Parse failures are
// reported immediately (they are deserialisation errors, which AWS reports
// before constraint validation).
type query struct {
	values url.Values
}

// newQuery parses r's query string. Malformed pairs are skipped, as
// url.URL.Query does; clients percent-encode everything they send.
func newQuery(r *http.Request) query {
	v, _ := url.ParseQuery(r.URL.RawQuery)
	return query{values: v}
}

// str returns the first value of key and whether it is present.
func (q query) str(key string) (string, bool) {
	vs, ok := q.values[key]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// boolean returns key as a boolean ("true"/"false", any case) or def.
func (q query) boolean(key string, def bool) (bool, error) {
	s, ok := q.str(key)
	if !ok {
		return def, nil
	}
	return parseQueryBool(key, s)
}

// integer returns key as an int32 or def.
func (q query) integer(key string, def int64) (int64, error) {
	s, ok := q.str(key)
	if !ok {
		return def, nil
	}
	return parseQueryInt(key, s)
}

// timestamp returns key as a time, or the zero time when absent.
func (q query) timestamp(key string) (time.Time, error) {
	s, ok := q.str(key)
	if !ok {
		return time.Time{}, nil
	}
	return parseQueryTime(key, s)
}

// parseQueryBool parses a query boolean.
func parseQueryBool(key, s string) (bool, error) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, nil
	case strings.EqualFold(s, "false"):
		return false, nil
	}
	return false, invalidParameter(fmt.Sprintf("Invalid value '%s' for query parameter %s: expected true or false", s, key))
}

// parseQueryInt parses a query integer (32-bit, as the model's integers are).
func parseQueryInt(key, s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, invalidParameter(fmt.Sprintf("Invalid value '%s' for query parameter %s: expected an integer", s, key))
	}
	return n, nil
}

// parseQueryTime parses an RFC 3339 timestamp with up to nine fractional
// digits: Go and JS send milliseconds, botocore microseconds.
func parseQueryTime(key, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, invalidParameter(fmt.Sprintf(
			"Invalid value '%s' for query parameter %s: expected an ISO-8601 timestamp such as 2026-01-02T03:04:05Z", s, key))
	}
	return t, nil
}

// discardBody drains a request body the operation does not use (heartbeat),
// bounded so a client cannot keep the handler reading forever.
func discardBody(r *http.Request) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxSmallBody))
	}
}

// releaseBody tells a request body that holds its bytes in memory lent to
// it (a multiplexed connection's frame) that the handler is done with
// them, and with every slice of them it was given.
func releaseBody(r *http.Request) {
	if b, ok := r.Body.(interface{ Release() }); ok {
		b.Release()
	}
}
