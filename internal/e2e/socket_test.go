package e2e

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/duro-run/duro/internal/engine"
	"github.com/duro-run/duro/internal/mux"
	"github.com/duro-run/duro/internal/server"
)

// The server also serves its API on a Unix socket in the data directory
// (server.SocketName), which Duro's Node workers use for the lean client.

// socketClient is an AWS SDK client whose connections go to the server's
// Unix socket.
func socketClient(t *testing.T, e *env) *lambda.Client {
	t.Helper()
	path := e.srv.SocketPath()
	if path != filepath.Join(e.dataDir, server.SocketName) {
		t.Fatalf("SocketPath = %q, want %q", path, filepath.Join(e.dataDir, server.SocketName))
	}
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	return lambda.New(lambda.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(e.srv.URL()),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDDURO", "duro-secret", ""),
		HTTPClient:   &http.Client{Transport: tr},
	})
}

// TestAPIOnUnixSocket: what is created over TCP is seen over the socket,
// and the other way round, errors included.
func TestAPIOnUnixSocket(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sock := socketClient(t, e)
	e.createFunction("over-tcp", fnOpts{}, func(context.Context, engine.Invocation) (engine.InvocationResponse, error) {
		return engine.InvocationResponse{}, nil
	})
	got, err := sock.GetFunction(ctx(t), &lambda.GetFunctionInput{FunctionName: aws.String("over-tcp")})
	if err != nil {
		t.Fatalf("GetFunction over the socket: %v", err)
	}
	if aws.ToString(got.Configuration.FunctionName) != "over-tcp" {
		t.Fatalf("GetFunction over the socket = %q", aws.ToString(got.Configuration.FunctionName))
	}
	_, err = sock.GetFunction(ctx(t), &lambda.GetFunctionInput{FunctionName: aws.String("nowhere")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("GetFunction of an unknown function over the socket: %v, want ResourceNotFoundException", err)
	}
	if _, err := sock.CreateFunction(ctx(t), &lambda.CreateFunctionInput{
		FunctionName: aws.String("over-socket"), Role: aws.String("arn:aws:iam::123456789012:role/r"),
		Runtime: types.RuntimeNodejs22x, Handler: aws.String("index.handler"),
		Code: &types.FunctionCode{ZipFile: hostZip(t, hostFile{name: "index.mjs", body: "export const handler = async () => 1;"})},
	}); err != nil {
		t.Fatalf("CreateFunction over the socket: %v", err)
	}
	if _, err := e.client.GetFunction(ctx(t), &lambda.GetFunctionInput{FunctionName: aws.String("over-socket")}); err != nil {
		t.Fatalf("GetFunction over TCP of the function created over the socket: %v", err)
	}
}

// A durable function on Duro's Node worker checkpoints over the socket,
// in the multiplexed protocol (internal/mux): every request the lean
// client sent was answered there.
func TestJSSDKLeanClientOnUnixSocket(t *testing.T) {
	t.Parallel()
	got := runJSProbe(t, nil, nil, nil)
	if got.Lean == nil || !got.Lean.Socket || got.Lean.Checkpoints < 2 || got.Lean.Errors != 0 || got.Lean.Retries != 0 ||
		got.Lean.SocketAnswers != got.Lean.Checkpoints+got.Lean.States {
		t.Fatalf("lean client %+v: want every request answered over Duro's Unix socket", got.Lean)
	}
}

// An endpoint the function sets itself, even one that reaches the same
// server, goes over TCP: the socket is only for the endpoint Duro gave.
func TestJSSDKLeanClientOwnEndpointOverTCP(t *testing.T) {
	t.Parallel()
	got := runJSProbe(t, nil, nil, func(e *env) map[string]string {
		_, port, err := net.SplitHostPort(e.srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		return map[string]string{"AWS_ENDPOINT_URL_LAMBDA": "http://localhost:" + port}
	})
	if got.Lean == nil || got.Lean.Socket || got.Lean.Checkpoints < 2 || got.Lean.SocketAnswers != 0 {
		t.Fatalf("lean client %+v: want it working over TCP", got.Lean)
	}
}

// With the socket gone (removed from the directory; the server still
// serves TCP), the lean client's first connection fails and it carries on
// over TCP.
func TestJSSDKLeanClientFallsBackToTCP(t *testing.T) {
	t.Parallel()
	got := runJSProbe(t, nil, func(e *env) {
		if err := os.Remove(e.srv.SocketPath()); err != nil {
			t.Fatal(err)
		}
	}, nil)
	if got.Lean == nil || got.Lean.Socket || got.Lean.Checkpoints < 2 || got.Lean.Errors != 0 || got.Lean.Retries < 1 || got.Lean.SocketAnswers != 0 {
		t.Fatalf("lean client %+v: want it over TCP after a retry, without errors", got.Lean)
	}
}

// TestAPIOverMux: the socket's multiplexed protocol reaches the same API,
// answers and errors as HTTP does.
func TestAPIOverMux(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createFunction("over-mux", fnOpts{}, func(context.Context, engine.Invocation) (engine.InvocationResponse, error) {
		return engine.InvocationResponse{}, nil
	})
	c, err := mux.Dial(ctx(t), "unix", e.srv.SocketPath())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := c.Do(ctx(t), http.MethodGet, "/2015-03-31/functions/over-mux", nil, nil)
	if err != nil || r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"FunctionName":"over-mux"`) {
		t.Fatalf("GetFunction over mux: %+v, %v", r, err)
	}
	r, err = c.Do(ctx(t), http.MethodGet, "/2015-03-31/functions/nowhere", nil, nil)
	if err != nil || r.Status != http.StatusNotFound || r.HeaderValue("X-Amzn-Errortype") != "ResourceNotFoundException" {
		t.Fatalf("GetFunction of an unknown function over mux: %+v, %v; want 404 ResourceNotFoundException", r, err)
	}
	// A durable execution's ARN, escaped as in a checkpoint's path, is
	// routed as over HTTP: a well-formed but unknown one is not found.
	arn := url.PathEscape("arn:aws:lambda:us-east-1:123456789012:function:over-mux:$LATEST/durable-execution/x/y")
	r, err = c.Do(ctx(t), http.MethodPost, "/2025-12-01/durable-executions/"+arn+"/checkpoint",
		http.Header{"Content-Type": {"application/json"}}, []byte(`{"CheckpointToken":"t"}`))
	if err != nil || r.Status < 400 || r.HeaderValue("X-Amzn-Errortype") == "" {
		t.Fatalf("checkpoint of an unknown execution over mux: %+v, %v; want an AWS error", r, err)
	}
	// The body reaches the API as over HTTP (the mux hands over its frame's
	// bytes without a copy): checked as JSON, and against the limit.
	for _, tc := range []struct {
		name, body, errType string
		status              int
	}{
		{"malformed", `{"CheckpointToken":`, "InvalidParameterValueException", http.StatusBadRequest},
		{"too large", `{"CheckpointToken":"` + strings.Repeat("x", 17<<20) + `"}`, "RequestTooLargeException", http.StatusRequestEntityTooLarge},
	} {
		r, err = c.Do(ctx(t), http.MethodPost, "/2025-12-01/durable-executions/"+arn+"/checkpoint",
			http.Header{"Content-Type": {"application/json"}}, []byte(tc.body))
		if err != nil || r.Status != tc.status || r.HeaderValue("X-Amzn-Errortype") != tc.errType {
			t.Errorf("%s checkpoint body over mux: %v, %v; want %d %s", tc.name, r, err, tc.status, tc.errType)
		}
	}
}
