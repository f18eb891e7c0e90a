package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/duro-run/duro/internal/engine"
)

// decodeErrorBody parses an error response body into a generic map so tests
// can check the exact member names.
func decodeErrorBody(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("error body %q is not JSON: %v", b, err)
	}
	return m
}

func TestErrorEncodingPerKind(t *testing.T) {
	tests := []struct {
		kind        engine.Kind
		shape       string
		status      int
		messageKey  string
		faultType   string
		wantMessage string
	}{
		{engine.KindInvalidParameter, "InvalidParameterValueException", 400, "message", "User", "Invalid Checkpoint Token: stale"},
		{engine.KindNotFound, "ResourceNotFoundException", 404, "Message", "User", "Function not found: f"},
		{engine.KindCallbackTimeout, "CallbackTimeoutException", 400, "Message", "User", "The callback ID token has either expired"},
		{engine.KindAlreadyStarted, "DurableExecutionAlreadyStartedException", 409, "Message", "User", "already started"},
		{engine.KindResourceConflict, "ResourceConflictException", 409, "message", "User", "conflict"},
		{engine.KindTooManyRequests, "TooManyRequestsException", 429, "message", "User", "slow down"},
		{engine.KindRequestTooLarge, "RequestTooLargeException", 413, "message", "User", "too large"},
		{engine.KindService, "ServiceException", 500, "Message", "Service", "Internal service error"},
	}
	for _, tt := range tests {
		t.Run(tt.shape, func(t *testing.T) {
			s := &server{log: slog.New(slog.DiscardHandler)}
			rr := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, "/x", nil)
			// Wrap like the engine would, to check errors.As unwrapping.
			err := fmt.Errorf("engine call: %w", engine.Errorf(tt.kind, "%s", tt.wantMessage))
			s.writeError(rr, req, "Op", err)

			if rr.Code != tt.status {
				t.Errorf("status %d, want %d", rr.Code, tt.status)
			}
			if got := rr.Header().Get("X-Amzn-ErrorType"); got != tt.shape {
				t.Errorf("x-amzn-ErrorType %q, want %q", got, tt.shape)
			}
			if got := rr.Header().Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type %q", got)
			}
			body := decodeErrorBody(t, rr.Body.Bytes())
			if body["Type"] != tt.faultType {
				t.Errorf("Type %v, want %s", body["Type"], tt.faultType)
			}
			if body["__type"] != tt.shape {
				t.Errorf("__type %v, want %s", body["__type"], tt.shape)
			}
			if body[tt.messageKey] != tt.wantMessage {
				t.Errorf("%s = %v, want %q (body %s)", tt.messageKey, body[tt.messageKey], tt.wantMessage, rr.Body)
			}
			other := "Message"
			if tt.messageKey == "Message" {
				other = "message"
			}
			if _, ok := body[other]; ok {
				t.Errorf("body has both message members: %s", rr.Body)
			}
		})
	}
}

func TestServiceFaultHidesCause(t *testing.T) {
	var logs bytes.Buffer
	s := &server{log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	rr := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	s.writeError(rr, req, "GetDurableExecution", errors.New("sqlite: disk I/O error at /var/lib/duro/db"))

	if rr.Code != 500 || rr.Header().Get("X-Amzn-ErrorType") != "ServiceException" {
		t.Fatalf("got %d %q", rr.Code, rr.Header().Get("X-Amzn-ErrorType"))
	}
	if strings.Contains(rr.Body.String(), "sqlite") {
		t.Fatalf("internal cause leaked: %s", rr.Body)
	}
	body := decodeErrorBody(t, rr.Body.Bytes())
	if body["Type"] != "Service" || body["Message"] != serviceFaultMessage {
		t.Fatalf("body %s", rr.Body)
	}
	if !strings.Contains(logs.String(), "sqlite: disk I/O error") || !strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("cause not logged at error level: %s", logs.String())
	}
}

func TestAPIErrorEncoding(t *testing.T) {
	tests := []struct {
		err        *apiError
		status     int
		messageKey string
	}{
		{invalidParameter("1 validation error detected: x"), 400, "message"},
		{newError(shapeInvalidRequestContent, "Could not parse request body into json"), 400, "message"},
		{newError(shapeRequestTooLarge, "Request must be smaller than 6291456 bytes for the InvokeFunction operation"), 413, "message"},
		{newError(shapeUnknownOperation, "Unknown operation"), 404, "Message"},
	}
	for _, tt := range tests {
		t.Run(tt.err.shape.name, func(t *testing.T) {
			s := &server{log: slog.New(slog.DiscardHandler)}
			rr := httptest.NewRecorder()
			s.writeError(rr, httptest.NewRequest(http.MethodPost, "/x", nil), "Op", tt.err)
			if rr.Code != tt.status || rr.Header().Get("X-Amzn-ErrorType") != tt.err.shape.name {
				t.Fatalf("got %d %q", rr.Code, rr.Header().Get("X-Amzn-ErrorType"))
			}
			body := decodeErrorBody(t, rr.Body.Bytes())
			if body[tt.messageKey] != tt.err.message || body["Type"] != "User" || body["__type"] != tt.err.shape.name {
				t.Fatalf("body %s", rr.Body)
			}
		})
	}
}

func TestErrorBodyExactBytes(t *testing.T) {
	rr := httptest.NewRecorder()
	writeErrorBody(rr, shapeNotFound, "Function not found: arn:aws:lambda:us-east-1:123456789012:function:f<&>")
	want := `{"Type":"User","Message":"Function not found: arn:aws:lambda:us-east-1:123456789012:function:f<&>","__type":"ResourceNotFoundException"}`
	if got := rr.Body.String(); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if rr.Header().Get("Content-Length") != fmt.Sprint(len(want)) {
		t.Fatalf("Content-Length %q", rr.Header().Get("Content-Length"))
	}
}

func TestShapesMatchModel(t *testing.T) {
	// Status codes and message casing from lambda-durable-model.json.
	tests := []struct {
		shape  errorShape
		status int
		lower  bool
	}{
		{shapeInvalidParameter, 400, true},
		{shapeInvalidRequestContent, 400, true},
		{shapeNotFound, 404, false},
		{shapeCallbackTimeout, 400, false},
		{shapeAlreadyStarted, 409, false},
		{shapeResourceConflict, 409, true},
		{shapeTooManyRequests, 429, true},
		{shapeRequestTooLarge, 413, true},
		{shapeService, 500, false},
	}
	for _, tt := range tests {
		if tt.shape.status != tt.status || tt.shape.lowerMessage != tt.lower {
			t.Errorf("%s: status %d lower %v, want %d %v", tt.shape.name, tt.shape.status, tt.shape.lowerMessage, tt.status, tt.lower)
		}
	}
}
