//go:build unix

package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/engine"
)

// The Node bootstrap's lean durable client, against a scripted stand-in
// for Duro's API: what the SDK gets back (Dates, AWS-SDK-shaped errors),
// the AWS SDK's standard retries with one ClientToken, and the HTTP
// framings its minimal client must read (chunked, read-until-close, a
// connection dropped mid-request).

// leanScriptHandler drives event.durableExecutionClient the way the
// durable SDK does and reports what came back.
const leanScriptHandler = `
export const handler = async (event) => {
  const c = event.durableExecutionClient;
  const report = { hasClient: !!c, tag: Object.prototype.toString.call(event), keys: Object.keys(event).sort() };
  if (!c) return report;
  const errorOf = async (f) => {
    try { await f(); return null; } catch (e) {
      return { name: e.name, message: e.message, status: e.$metadata && e.$metadata.httpStatusCode, fault: e.$fault,
        attempts: e.$metadata && e.$metadata.attempts, type: e.Type };
    }
  };
  const arn = (s) => "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST/durable-execution/" + s + "/id";
  const ok = await c.checkpoint({ DurableExecutionArn: arn("ok"), CheckpointToken: "t0", Updates: [{ Id: "a", Type: "STEP", Action: "START", Payload: "héllo ✓" }] });
  const op = ok.NewExecutionState.Operations[0];
  report.ok = {
    token: ok.CheckpointToken, status: ok.$metadata.httpStatusCode, attempts: ok.$metadata.attempts,
    start: op.StartTimestamp instanceof Date ? op.StartTimestamp.toISOString() : String(op.StartTimestamp),
    end: op.EndTimestamp instanceof Date ? op.EndTimestamp.toISOString() : String(op.EndTimestamp),
    next: op.StepDetails.NextAttemptTimestamp instanceof Date ? op.StepDetails.NextAttemptTimestamp.toISOString() : null,
    wait: op.WaitDetails.ScheduledEndTimestamp instanceof Date ? op.WaitDetails.ScheduledEndTimestamp.toISOString() : null,
    result: op.StepDetails.Result,
  };
  const flaky = await c.checkpoint({ DurableExecutionArn: arn("flaky"), CheckpointToken: "t1", Updates: [] });
  report.flaky = { token: flaky.CheckpointToken, attempts: flaky.$metadata.attempts };
  const closed = await c.checkpoint({ DurableExecutionArn: arn("close"), CheckpointToken: "t2", Updates: [] });
  report.closed = closed.CheckpointToken;
  report.stale = await errorOf(() => c.checkpoint({ DurableExecutionArn: arn("stale"), CheckpointToken: "t3", Updates: [] }));
  report.throttled = await errorOf(() => c.checkpoint({ DurableExecutionArn: arn("throttled"), CheckpointToken: "t4", Updates: [] }));
  const st = await c.getExecutionState({ DurableExecutionArn: arn("odd name+/="), CheckpointToken: "t+/=", Marker: "m a+b/c=", MaxItems: 1000 });
  report.state = { n: st.Operations.length, next: st.NextMarker, start: st.Operations[0].StartTimestamp instanceof Date };
  return report;
};
`

// leanServer is the scripted API. It records, per ARN, the ClientTokens
// and queries it received.
type leanServer struct {
	mu       sync.Mutex
	tokens   map[string][]string
	queries  []string
	auth     []string
	payloads []string // the first update's Payload of each checkpoint
}

func (s *leanServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	arn := r.PathValue("arn")
	name := strings.TrimSuffix(strings.TrimPrefix(arn, "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST/durable-execution/"), "/id")
	var body struct {
		ClientToken string
		Updates     []struct{ Payload string }
	}
	b, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(b, &body)
	s.mu.Lock()
	s.tokens[name] = append(s.tokens[name], body.ClientToken)
	if len(body.Updates) > 0 {
		s.payloads = append(s.payloads, body.Updates[0].Payload)
	}
	attempt := len(s.tokens[name])
	if r.Method == http.MethodGet {
		s.queries = append(s.queries, name+"?"+r.URL.Query().Encode())
	}
	s.auth = append(s.auth, r.Header.Get("Authorization"))
	s.mu.Unlock()
	awsError := func(status int, code, message string) {
		w.Header().Set("x-amzn-ErrorType", code)
		w.Header().Set("x-amzn-RequestId", "req-1")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"Type":"User","message":%q}`, message)
	}
	switch name {
	case "ok": // a chunked response
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"CheckpointToken":"t0-next","NewExecutionState":{"Operations":[{"Id":"a","Type":"STEP","Status":"PENDING",`)
		w.(http.Flusher).Flush()
		io.WriteString(w, `"StartTimestamp":1767323045.123,"EndTimestamp":1767323046,`+
			`"StepDetails":{"Attempt":1,"Result":"\"héllo\"","NextAttemptTimestamp":1767323050.5},"WaitDetails":{"ScheduledEndTimestamp":1767323075}}]}}`)
	case "flaky": // 503, then a dropped connection, then the answer
		switch attempt {
		case 1:
			awsError(http.StatusServiceUnavailable, "ServiceException", "try again")
		case 2:
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		default:
			io.WriteString(w, `{"CheckpointToken":"t1-next","NewExecutionState":{}}`)
		}
	case "close": // no length: the body ends with the connection
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err == nil {
			buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n" +
				`{"CheckpointToken":"t2-next","NewExecutionState":{}}`)
			buf.Flush()
			conn.Close()
		}
	case "stale":
		awsError(http.StatusBadRequest, "InvalidParameterValueException", "Invalid Checkpoint Token: stale")
	case "throttled":
		awsError(http.StatusTooManyRequests, "TooManyRequestsException", "slow down")
	default: // GetDurableExecutionState
		io.WriteString(w, `{"Operations":[{"Id":"x","Type":"EXECUTION","Status":"STARTED","StartTimestamp":1767323045}],"NextMarker":"more"}`)
	}
}

// bootstrapHost returns a Router running the Node bootstrap for a
// function whose code is handler (index.mjs) and whose environment is env.
func bootstrapHost(t *testing.T, handler string, env map[string]string) (*Router, engine.FunctionConfiguration) {
	t.Helper()
	return bootstrapHostWithSocket(t, handler, env, "")
}

// bootstrapHostWithSocket is bootstrapHost whose workers are offered the
// Unix socket at socket (EndpointSocket), if not empty.
func bootstrapHostWithSocket(t *testing.T, handler string, env map[string]string, socket string) (*Router, engine.FunctionConfiguration) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not installed")
	}
	code := t.TempDir()
	if err := os.WriteFile(filepath.Join(code, "index.mjs"), []byte(handler), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{DataDir: t.TempDir(), Logs: &memLogs{}, EndpointURL: "http://127.0.0.1:1", EndpointSocket: socket})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = r.Close(ctx)
	})
	fn := engine.FunctionConfiguration{
		FunctionName: "lean", FunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:lean", Version: "$LATEST",
		Runtime: "nodejs22.x", Handler: "index.handler", Timeout: 30, MemorySize: 128, RevisionId: "r1", CodeLocation: code,
		Environment: &engine.EnvironmentResponse{Variables: env},
	}
	return r, fn
}

func invokeJSON(t *testing.T, r *Router, fn engine.FunctionConfiguration, payload string, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := r.Invoke(ctx, engine.Invocation{Function: fn, RequestID: "req-1", Payload: []byte(payload), Deadline: time.Now().Add(30 * time.Second)})
	if err != nil || resp.FunctionError != "" {
		t.Fatalf("invoke: %v %s", err, resp.Payload)
	}
	if err := json.Unmarshal(resp.Payload, out); err != nil {
		t.Fatalf("payload %s: %v", resp.Payload, err)
	}
}

const leanEnvelope = `{"DurableExecutionArn":"arn:aws:lambda:us-east-1:123456789012:function:lean:$LATEST/durable-execution/n/1",` +
	`"CheckpointToken":"dG9r","InitialExecutionState":{"Operations":[]}}`

func TestBootstrapLeanClient(t *testing.T) {
	ls := &leanServer{tokens: map[string][]string{}}
	mux := http.NewServeMux()
	mux.Handle("/base/2025-12-01/durable-executions/{arn}/checkpoint", ls)
	mux.Handle("/base/2025-12-01/durable-executions/{arn}/state", ls)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	r, fn := bootstrapHost(t, leanScriptHandler, map[string]string{"AWS_ENDPOINT_URL_LAMBDA": srv.URL + "/base"})

	type apiErr struct {
		Name, Message, Fault, Type string
		Status, Attempts           int
	}
	var rep struct {
		HasClient bool
		Tag       string
		Keys      []string
		OK        struct {
			Token, Start, End, Next, Wait, Result string
			Status, Attempts                      int
		}
		Flaky struct {
			Token    string
			Attempts int
		}
		Closed           string
		Stale, Throttled *apiErr
		State            struct {
			N     int
			Next  string
			Start bool
		}
	}
	invokeJSON(t, r, fn, leanEnvelope, &rep)
	raw, _ := json.Marshal(rep)
	// A body that is not ASCII arrives whole: its Content-Length counts bytes.
	ls.mu.Lock()
	payloads := ls.payloads
	ls.mu.Unlock()
	if len(payloads) != 1 || payloads[0] != "héllo ✓" {
		t.Errorf("the server read the checkpoints' first payloads as %q, want [\"héllo ✓\"]", payloads)
	}
	if !rep.HasClient || rep.Tag != "[object DurableExecutionInvocationInputWithClient]" ||
		strings.Join(rep.Keys, ",") != "CheckpointToken,DurableExecutionArn,InitialExecutionState" {
		t.Fatalf("the envelope is not wrapped as the SDK expects: %s", raw)
	}
	if o := rep.OK; o.Token != "t0-next" || o.Status != 200 || o.Attempts != 1 || o.Start != "2026-01-02T03:04:05.123Z" ||
		o.End != "2026-01-02T03:04:06.000Z" || o.Next != "2026-01-02T03:04:10.500Z" || o.Wait != "2026-01-02T03:04:35.000Z" || o.Result != `"héllo"` {
		t.Errorf("checkpoint (chunked response): %+v; want epoch seconds as Dates and the UTF-8 result", o)
	}
	if rep.Flaky.Token != "t1-next" || rep.Flaky.Attempts != 3 {
		t.Errorf("retried checkpoint: %+v; want the answer of the 3rd attempt", rep.Flaky)
	}
	ls.mu.Lock()
	flaky, tokens := ls.tokens["flaky"], ls.tokens
	queries, auth := ls.queries, ls.auth
	ls.mu.Unlock()
	if len(flaky) != 3 || flaky[0] == "" || flaky[1] != flaky[0] || flaky[2] != flaky[0] {
		t.Errorf("ClientTokens of the retried checkpoint: %q; want one token, sent 3 times", flaky)
	}
	if tokens["ok"][0] == tokens["flaky"][0] || len(tokens["ok"][0]) != 36 {
		t.Errorf("ClientTokens %q and %q: want a fresh UUID per checkpoint", tokens["ok"][0], tokens["flaky"][0])
	}
	if rep.Closed != "t2-next" {
		t.Errorf("read-until-close response: token %q", rep.Closed)
	}
	if s := rep.Stale; s == nil || s.Name != "InvalidParameterValueException" || s.Message != "Invalid Checkpoint Token: stale" ||
		s.Status != 400 || s.Fault != "client" || s.Attempts != 1 || s.Type != "User" {
		t.Errorf("stale token error %+v", s)
	}
	if s := rep.Throttled; s == nil || s.Name != "TooManyRequestsException" || s.Status != 429 || s.Attempts != 3 {
		t.Errorf("throttling error %+v; want TooManyRequestsException after 3 attempts", s)
	}
	if len(tokens["throttled"]) != 3 || len(tokens["stale"]) != 1 {
		t.Errorf("attempts seen: %d throttled, %d stale; want 3 and 1", len(tokens["throttled"]), len(tokens["stale"]))
	}
	if rep.State.N != 1 || rep.State.Next != "more" || !rep.State.Start {
		t.Errorf("state: %+v", rep.State)
	}
	if want := "odd name+/=?CheckpointToken=t%2B%2F%3D&Marker=m+a%2Bb%2Fc%3D&MaxItems=1000"; len(queries) != 1 || queries[0] != want {
		t.Errorf("GetDurableExecutionState arrived as %q, want %q", queries, want)
	}
	for _, a := range auth {
		if a != "" {
			t.Errorf("a request carried Authorization %q; the lean client does not sign", a)
		}
	}
}

// DURO_NODE_LEAN_CLIENT=0 and events that are not durable envelopes leave
// the event alone.
func TestBootstrapLeanClientOff(t *testing.T) {
	var rep struct {
		HasClient bool
		Tag       string
	}
	r, fn := bootstrapHost(t, leanScriptHandler, map[string]string{"DURO_NODE_LEAN_CLIENT": "0"})
	invokeJSON(t, r, fn, leanEnvelope, &rep)
	if rep.HasClient || rep.Tag != "[object Object]" {
		t.Errorf("DURO_NODE_LEAN_CLIENT=0: event %+v; want the plain envelope", rep)
	}
	r, fn = bootstrapHost(t, leanScriptHandler, nil)
	invokeJSON(t, r, fn, `{"DurableExecutionArn":"x"}`, &rep)
	if rep.HasClient || rep.Tag != "[object Object]" {
		t.Errorf("non-durable event: %+v; want it untouched", rep)
	}
}
