package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"
)

// These tests exercise the real router. The only ones that go through New
// use requests that are answered before any engine call (health, unknown
// routes, validation failures), so a nil engine.Service suffices and no
// fake engine is involved.

// escapedArn is validArn the way every client sends it as a label:
// ":" and "/" percent-encoded, so the ARN stays one path segment.
const escapedArn = "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-func%3A1%2Fdurable-execution%2Forder-42%2F0f8e7d6c-aaaa"

func TestRouteTable(t *testing.T) {
	type hit struct{ op, label string }
	s := &server{}
	mux := http.NewServeMux()
	var got hit
	for _, rt := range s.routes() {
		mux.HandleFunc(rt.pattern, func(w http.ResponseWriter, r *http.Request) {
			label := r.PathValue("DurableExecutionArn") + r.PathValue("CallbackId") + r.PathValue("FunctionName")
			got = hit{op: rt.op, label: label}
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { got = hit{op: "UnknownOperation"} })

	tests := []struct {
		method, target string
		want           hit
	}{
		{"GET", "/2025-12-01/durable-executions/" + escapedArn, hit{"GetDurableExecution", validArn}},
		{"GET", "/2025-12-01/durable-executions/" + escapedArn + "?IncludeExecutionData=false", hit{"GetDurableExecution", validArn}},
		{"GET", "/2025-12-01/durable-executions/" + escapedArn + "/history", hit{"GetDurableExecutionHistory", validArn}},
		{"GET", "/2025-12-01/durable-executions/" + escapedArn + "/state?CheckpointToken=dG9rZW4x%2B%2F%3D", hit{"GetDurableExecutionState", validArn}},
		{"POST", "/2025-12-01/durable-executions/" + escapedArn + "/checkpoint", hit{"CheckpointDurableExecution", validArn}},
		{"POST", "/2025-12-01/durable-executions/" + escapedArn + "/stop", hit{"StopDurableExecution", validArn}},
		{"GET", "/2025-12-01/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-func/durable-executions",
			hit{"ListDurableExecutionsByFunction", "arn:aws:lambda:us-east-1:123456789012:function:my-func"}},
		// CallbackId "Y2IxMjM+/w==": "+" must stay "+" (path rules, not query rules).
		{"POST", "/2025-12-01/durable-execution-callbacks/Y2IxMjM%2B%2Fw%3D%3D/succeed", hit{"SendDurableExecutionCallbackSuccess", validCallback}},
		{"POST", "/2025-12-01/durable-execution-callbacks/Y2IxMjM+%2Fw%3D%3D/fail", hit{"SendDurableExecutionCallbackFailure", validCallback}},
		{"POST", "/2025-12-01/durable-execution-callbacks/Y2IxMjM%2B%2Fw%3D%3D/heartbeat", hit{"SendDurableExecutionCallbackHeartbeat", validCallback}},
		{"POST", "/2015-03-31/functions", hit{"CreateFunction", ""}},
		{"POST", "/2015-03-31/functions/", hit{"CreateFunction", ""}},
		{"GET", "/2015-03-31/functions", hit{"ListFunctions", ""}},
		{"GET", "/2015-03-31/functions/?MaxItems=5", hit{"ListFunctions", ""}},
		{"GET", "/2015-03-31/functions/my-func%3A1", hit{"GetFunction", "my-func:1"}},
		{"DELETE", "/2015-03-31/functions/my-func?Qualifier=1", hit{"DeleteFunction", "my-func"}},
		{"GET", "/2015-03-31/functions/my-func/configuration?Qualifier=%24LATEST", hit{"GetFunctionConfiguration", "my-func"}},
		{"PUT", "/2015-03-31/functions/my-func/configuration", hit{"UpdateFunctionConfiguration", "my-func"}},
		{"POST", "/2015-03-31/functions/my-func/versions", hit{"PublishVersion", "my-func"}},
		{"GET", "/2015-03-31/functions/my-func/versions", hit{"ListVersionsByFunction", "my-func"}},
		{"POST", "/2015-03-31/functions/my-func%3A1/invocations", hit{"Invoke", "my-func:1"}},
		{"POST", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-func%3A%24LATEST/invocations",
			hit{"Invoke", "arn:aws:lambda:us-east-1:123456789012:function:my-func:$LATEST"}},
		{"PUT", "/2015-03-31/functions/my-func/code", hit{"UpdateFunctionCode", "my-func"}},
		{"GET", "/duro/v1/logs?functionName=f", hit{"ListFunctionLogs", ""}},
		{"GET", "/health", hit{"Health", ""}},
		{"POST", "/start-durable-execution", hit{"StartDurableExecution", ""}},
		{"PUT", "/lambda-endpoint", hit{"UpdateLambdaEndpoint", ""}},
		{"GET", "/2025-12-01/durable-executions?FunctionName=f", hit{"ListDurableExecutions", ""}},

		{"GET", "/", hit{"UnknownOperation", ""}},
		{"GET", "/2025-12-01/durable-executions/" + escapedArn + "/nope", hit{"UnknownOperation", ""}},
		{"GET", "/2025-12-01/durable-executions/" + escapedArn + "/history/", hit{"UnknownOperation", ""}},
		{"DELETE", "/2025-12-01/durable-executions/" + escapedArn, hit{"UnknownOperation", ""}},
		{"GET", "/2025-12-01/durable-execution-callbacks/abc/succeed", hit{"UnknownOperation", ""}},
		// An unescaped "/" inside the ARN splits it into several segments:
		// no route matches, exactly as with the real service.
		{"GET", "/2025-12-01/durable-executions/arn:aws:lambda:us-east-1:123456789012:function:f:1/durable-execution/n/id", hit{"UnknownOperation", ""}},
		{"GET", "/2015-03-31/functions/my-func/invocations", hit{"UnknownOperation", ""}},
		{"POST", "/2018-06-01/runtime/invocation/next", hit{"UnknownOperation", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			got = hit{}
			mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tt.method, tt.target, nil))
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// serve sends one request through New(nil, ...).
func serve(t *testing.T, method, target string, body io.Reader, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	h := New(nil, Options{})
	req := httptest.NewRequest(method, target, body)
	for k, vs := range header {
		req.Header[k] = vs
	}
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, req)
	return rr
}

// checkAWSError asserts an AWS-style error response.
func checkAWSError(t *testing.T, rr *httptest.ResponseRecorder, status int, shape, messageKey, contains string) map[string]any {
	t.Helper()
	if rr.Code != status {
		t.Fatalf("status %d, want %d (body %s)", rr.Code, status, rr.Body)
	}
	if got := rr.Header().Get("X-Amzn-ErrorType"); got != shape {
		t.Fatalf("x-amzn-ErrorType %q, want %q", got, shape)
	}
	if ct := rr.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	var body map[string]any
	if err := json.Unmarshal(rr.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", rr.Body, err)
	}
	msg, _ := body[messageKey].(string)
	if !strings.Contains(msg, contains) {
		t.Fatalf("%s = %q, want it to contain %q (body %s)", messageKey, msg, contains, rr.Body)
	}
	return body
}

func TestHealth(t *testing.T) {
	rr := serve(t, "GET", "/health", nil, nil)
	if rr.Code != 200 || rr.Body.String() != `{"status":"healthy"}` || rr.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("got %d %q %q", rr.Code, rr.Body, rr.Header().Get("Content-Type"))
	}
	if !regexp.MustCompile(uuidPatternStr).MatchString(rr.Header().Get("X-Amzn-RequestId")) {
		t.Fatalf("x-amzn-RequestId %q", rr.Header().Get("X-Amzn-RequestId"))
	}
}

func TestUnknownRoutes(t *testing.T) {
	for _, tc := range []struct{ method, target string }{
		{"GET", "/"},
		{"GET", "/nope"},
		{"POST", "/health"},
		{"PATCH", "/2015-03-31/functions/f"},
		{"DELETE", "/2025-12-01/durable-executions/" + escapedArn},
		{"GET", "/2025-12-01/durable-executions/" + escapedArn + "/history/"},
		{"GET", "/2025-12-01/durable-executions//history"},
		{"GET", "/2015-03-31/functions/./f"},
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			rr := serve(t, tc.method, tc.target, nil, nil)
			body := checkAWSError(t, rr, 404, "UnknownOperationException", "Message", "Unknown operation")
			if body["Type"] != "User" || body["__type"] != "UnknownOperationException" {
				t.Fatalf("body %s", rr.Body)
			}
			if rr.Header().Get("X-Amzn-RequestId") == "" {
				t.Fatal("no request id")
			}
		})
	}
}

// TestEscapedLabelsReachValidation shows, end to end through New, that an
// escaped label is routed and decoded before validation: the message quotes
// the decoded value.
func TestEscapedLabelsReachValidation(t *testing.T) {
	rr := serve(t, "GET", "/2025-12-01/durable-executions/arn%3Aaws%3Alambda%2Fnot-an-execution/history", nil, nil)
	checkAWSError(t, rr, 400, "InvalidParameterValueException", "message",
		"1 validation error detected: Value 'arn:aws:lambda/not-an-execution' at 'durableExecutionArn' failed to satisfy constraint: Member must satisfy regular expression pattern:")

	rr = serve(t, "POST", "/2025-12-01/durable-execution-callbacks/ab%2Bc%2F%3D%3D%3D/succeed", strings.NewReader("x"), nil)
	checkAWSError(t, rr, 400, "InvalidParameterValueException", "message", "Value 'ab+c/===' at 'callbackId'")

	rr = serve(t, "POST", "/2015-03-31/functions/my%20func%3A1/invocations", nil, nil)
	checkAWSError(t, rr, 400, "InvalidParameterValueException", "message", "Value 'my func:1' at 'functionName'")
}

func TestValidationFailuresNeverReachEngine(t *testing.T) {
	// Each request is invalid; with a nil engine any engine call would
	// panic and surface as a 500, so a 4xx proves the engine was not called.
	big := strings.Repeat("x", maxAsyncInvokePayload+1)
	tests := []struct {
		name, method, target string
		body                 string
		header               http.Header
		status               int
		shape, key, contains string
	}{
		{"state without token", "GET", "/2025-12-01/durable-executions/" + escapedArn + "/state", "", nil,
			400, "InvalidParameterValueException", "message", "Value null at 'checkpointToken'"},
		{"history max items", "GET", "/2025-12-01/durable-executions/" + escapedArn + "/history?MaxItems=5000", "", nil,
			400, "InvalidParameterValueException", "message", "'maxItems'"},
		{"checkpoint malformed", "POST", "/2025-12-01/durable-executions/" + escapedArn + "/checkpoint", `{"CheckpointToken":`, nil,
			400, "InvalidParameterValueException", "message", "Could not parse request body into json"},
		{"stop malformed", "POST", "/2025-12-01/durable-executions/" + escapedArn + "/stop", `{"ErrorType":1}`, nil,
			400, "InvalidParameterValueException", "message", "member 'ErrorType'"},
		{"callback failure malformed", "POST", "/2025-12-01/durable-execution-callbacks/Y2IxMjM%2B%2Fw%3D%3D/fail", `nope`, nil,
			400, "InvalidParameterValueException", "message", "Could not parse"},
		{"callback success too large", "POST", "/2025-12-01/durable-execution-callbacks/abc/succeed", strings.Repeat("x", maxCallbackResult+1), nil,
			400, "InvalidParameterValueException", "message", "Value at 'result' failed to satisfy constraint: Member must have length less than or equal to 1048576"},
		{"list statuses", "GET", "/2025-12-01/functions/my-func/durable-executions?Statuses=DONE", "", nil,
			400, "InvalidParameterValueException", "message", "'statuses'"},
		{"list started after", "GET", "/2025-12-01/functions/my-func/durable-executions?StartedAfter=yesterday", "", nil,
			400, "InvalidParameterValueException", "message", "StartedAfter"},
		{"invoke bad type", "POST", "/2015-03-31/functions/f/invocations?Qualifier=%24LATEST", "{}",
			http.Header{"X-Amz-Invocation-Type": {"Sync"}}, 400, "InvalidParameterValueException", "message", "'invocationType'"},
		{"invoke event too large", "POST", "/2015-03-31/functions/f/invocations?Qualifier=%24LATEST", big,
			http.Header{"X-Amz-Invocation-Type": {"Event"}}, 413, "RequestTooLargeException", "message",
			"Request must be smaller than 1048576 bytes for the InvokeFunction operation"},
		{"invoke not json", "POST", "/2015-03-31/functions/f/invocations?Qualifier=1", "hello", nil,
			400, "InvalidRequestContentException", "message", "Could not parse request body into json"},
		{"create function no name", "POST", "/2015-03-31/functions", `{"Runtime":"nodejs24.x"}`, nil,
			400, "InvalidParameterValueException", "message", "Value null at 'functionName'"},
		{"update function timeout", "PUT", "/2015-03-31/functions/f/configuration", `{"Timeout":0}`, nil,
			400, "InvalidParameterValueException", "message", "'timeout'"},
		{"publish description", "POST", "/2015-03-31/functions/f/versions", `{"Description":"` + strings.Repeat("d", 300) + `"}`, nil,
			400, "InvalidParameterValueException", "message", "'description'"},
		{"list functions max items", "GET", "/2015-03-31/functions/?MaxItems=0", "", nil,
			400, "InvalidParameterValueException", "message", "'maxItems'"},
		{"delete function qualifier", "DELETE", "/2015-03-31/functions/f?Qualifier=a.b", "", nil,
			400, "InvalidParameterValueException", "message", "'qualifier'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			rr := serve(t, tt.method, tt.target, body, tt.header)
			checkAWSError(t, rr, tt.status, tt.shape, tt.key, tt.contains)
		})
	}
}

func TestInvokePayloadLimitWithoutContentLength(t *testing.T) {
	// A chunked body has no Content-Length; the limit must still hold.
	h := New(nil, Options{})
	req := httptest.NewRequest("POST", "/2015-03-31/functions/f/invocations?Qualifier=1",
		io.MultiReader(strings.NewReader(`"`), strings.NewReader(strings.Repeat("x", maxSyncInvokePayload))))
	req.ContentLength = -1
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, req)
	checkAWSError(t, rr, 413, "RequestTooLargeException", "message", "Request must be smaller than 6291456 bytes")
}

func TestPanicBecomesServiceException(t *testing.T) {
	var logs bytes.Buffer
	s := &server{log: slog.New(slog.NewTextHandler(&logs, nil))}
	h := s.middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, httptest.NewRequest("GET", "/x", nil))
	body := checkAWSError(t, rr, 500, "ServiceException", "Message", serviceFaultMessage)
	if body["Type"] != "Service" {
		t.Fatalf("Type %v", body["Type"])
	}
	if !strings.Contains(logs.String(), "boom") {
		t.Fatalf("panic not logged: %s", logs.String())
	}
}

// The checkpoint fast route takes the requests the ServeMux pattern would
// route to CheckpointDurableExecution, with the same ARN, and leaves the
// rest to the ServeMux; it may leave it a rare spelling of a checkpoint's
// path (an escaped letter in "checkpoint"), which the ServeMux then routes.
func TestCheckpointRouteAgreesWithServeMux(t *testing.T) {
	const pattern = "POST /2025-12-01/durable-executions/{DurableExecutionArn}/checkpoint"
	for _, tc := range []struct {
		method, target string
		fast           bool // the fast route takes it
	}{
		{"POST", "/2025-12-01/durable-executions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af%3A%24LATEST%2Fdurable-execution%2Fn%2Fid/checkpoint", true},
		{"POST", "/2025-12-01/durable-executions/plain/checkpoint", true},
		{"POST", "/2025-12-01/durable-executions/a+b%20c/checkpoint", true},
		{"POST", "/2025-12-01/durable-executions/%252F/checkpoint", true},
		{"POST", "/2025-12-01/durable-executions/%E2%82%AC/checkpoint", true},
		{"POST", "/2025-12-01/durable-executions/x%2F/checkpoint", true},
		{"POST", "/2025-12-01/durable-executions/%2Fcheckpoint/checkpoint", true},
		{"POST", "/2025-12-01/durable-executions/x/checkpoint?q=1", true},
		{"POST", "/2025-12-01/durable-executions/x/%63heckpoint", false},
		{"POST", "/2025-12-01/durable-executions/%2F/checkpoint", false},
		{"POST", "/2025-12-01/durable-executions/a/b/checkpoint", false},
		{"POST", "/2025-12-01/durable-executions//checkpoint", false},
		{"POST", "/2025-12-01/durable-executions/x/checkpoint/", false},
		{"POST", "/2025-12-01/durable-executions/x/checkpointx", false},
		{"POST", "/2025-12-01/durable-executions/x", false},
		{"POST", "/2025-12-01/durable-executions/x%2Fcheckpoint", false},
		{"POST", "/2025-12-01/durable-executions%2Fx/checkpoint", false},
		{"GET", "/2025-12-01/durable-executions/x/checkpoint", false},
		{"PUT", "/2025-12-01/durable-executions/x/checkpoint", false},
	} {
		var viaMux, viaRoute string
		mux := http.NewServeMux()
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			viaMux = "checkpoint " + r.PathValue("DurableExecutionArn")
		})
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { viaMux = "other" })
		mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tc.method, tc.target, nil))

		fast := false
		other := http.NewServeMux()
		other.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { viaRoute = "other" })
		other.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			viaRoute = "checkpoint " + r.PathValue("DurableExecutionArn")
		})
		route := &checkpointRoute{checkpoint: func(w http.ResponseWriter, r *http.Request, arn string) {
			viaRoute, fast = "checkpoint "+arn, true
		}, mux: other}
		route.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tc.method, tc.target, nil))
		if viaRoute != viaMux {
			t.Errorf("%s %s: fast route gave %q, the ServeMux %q", tc.method, tc.target, viaRoute, viaMux)
		}
		if fast != tc.fast {
			t.Errorf("%s %s: taken by the fast route %v, want %v", tc.method, tc.target, fast, tc.fast)
		}
	}
}

// TestReadAll: a body is read whole whatever length its request announced
// (the buffer is only sized from it), and the limit still holds when the
// announced length is below the body's.
func TestReadAll(t *testing.T) {
	body := strings.Repeat("b", 700)
	for _, tc := range []struct {
		name      string
		announced int64
	}{
		{"exact", 700},
		{"announced shorter", 10},
		{"announced longer", 5000},
		{"unknown", -1},
		{"zero", 0},
		{"beyond the presized bound", maxPresizedBody + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readAll(iotest.OneByteReader(strings.NewReader(body)), tc.announced)
			if err != nil || string(got) != body {
				t.Fatalf("readAll = %d bytes, %v; want the %d-byte body", len(got), err, len(body))
			}
		})
	}
	req := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 101)))
	req.ContentLength = 50 // a peer that announces less than it sends
	if _, err := readBody(req, 100); !errors.Is(err, errBodyTooLarge) {
		t.Errorf("readBody of 101 bytes announced as 50, limit 100: err %v, want errBodyTooLarge", err)
	}
	// A body that holds its bytes (the multiplexed connection's) is taken
	// without a copy, and is held to the limit even when the request
	// announces no length.
	held := &heldBody{Reader: strings.NewReader(""), b: []byte(strings.Repeat("h", 101))}
	req = httptest.NewRequest("POST", "/", nil)
	req.Body, req.ContentLength = held, -1
	if _, err := readBody(req, 100); !errors.Is(err, errBodyTooLarge) {
		t.Errorf("readBody of 101 held bytes, limit 100: err %v, want errBodyTooLarge", err)
	}
	req.Body = held
	if got, err := readBody(req, 200); err != nil || &got[0] != &held.b[0] {
		t.Errorf("readBody of held bytes: %v, a copy %v; want the bytes themselves", err, err == nil)
	}
	broken := iotest.ErrReader(errors.New("connection reset"))
	if _, err := readAll(broken, 700); err == nil {
		t.Error("readAll of a failing reader: no error")
	}
}

// TestErrorLogCarriesRequestID: an error's log line names the request by
// the id its response carries in x-amzn-RequestId.
func TestErrorLogCarriesRequestID(t *testing.T) {
	var logs bytes.Buffer
	s := &server{log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	h := s.middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, "TestOp", errors.New("disk on fire"))
	}))
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, httptest.NewRequest("GET", "/x", nil))
	id := rr.Header().Get("x-amzn-RequestId")
	if id == "" {
		t.Fatal("no x-amzn-RequestId on the response")
	}
	var fault string
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, "service fault") {
			fault = line
		}
	}
	if !strings.Contains(fault, "requestId="+id) {
		t.Errorf("the fault's log line lacks requestId=%s:\n%s", id, logs.String())
	}
}

// heldBody is a body that holds its bytes, as package mux's frames do.
type heldBody struct {
	*strings.Reader
	b []byte
}

func (h *heldBody) Close() error  { return nil }
func (h *heldBody) Bytes() []byte { return h.b }

// lendingWriter is a ResponseWriter that lends its body buffer.
type lendingWriter struct {
	*httptest.ResponseRecorder
	buf []byte
}

func (w *lendingWriter) BodyBuffer(n int) []byte {
	w.buf = make([]byte, 0, n)
	return w.buf
}

// TestBodyBuffer: bodyBuffer takes the buffer of a writer that lends one,
// through the middleware's recorder too, and makes one otherwise.
func TestBodyBuffer(t *testing.T) {
	lw := &lendingWriter{ResponseRecorder: httptest.NewRecorder()}
	for _, w := range []http.ResponseWriter{lw, &responseRecorder{ResponseWriter: lw}} {
		b := bodyBuffer(w, 100)
		if cap(b) != 100 || len(b) != 0 || cap(lw.buf) == 0 || &b[:1][0] != &lw.buf[:1][0] {
			t.Errorf("bodyBuffer(%T, 100): len %d cap %d, not the writer's own", w, len(b), cap(b))
		}
	}
	if b := bodyBuffer(httptest.NewRecorder(), 50); cap(b) < 50 || len(b) != 0 {
		t.Errorf("bodyBuffer of a plain writer: len %d cap %d, want an empty slice with room for 50", len(b), cap(b))
	}
}
