package e2e

// Harness for tests that run Duro the way operators do: the real `duro
// serve` binary as a child process, with its durable functions remote
// (DURO_INVOKE_URL) and served by the test itself. The identifiers here are
// prefixed (proc*, remote*, swap*, ack*) so that they cannot collide with the
// in-process helpers of helpers_test.go.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/duro-run/duro/internal/durable"
	"github.com/duro-run/duro/internal/runtime"
)

// procModuleRoot finds the module root (the directory holding go.mod) from
// the test's working directory.
func procModuleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's working directory")
		}
		dir = parent
	}
}

// procBuildDuro builds ./cmd/duro into a temporary directory of the test and
// returns the binary's path. (`go test` puts its own go first on PATH.)
func procBuildDuro(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build ./cmd/duro: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "duro")
	cmd := exec.Command(goBin, "build", "-o", bin, "./cmd/duro")
	cmd.Dir = procModuleRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/duro: %v\n%s", err, out)
	}
	return bin
}

// procLog collects a child's output and spots the line that announces the
// listening address.
type procLog struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	partial []byte
	addr    chan string // receives the address once
	found   bool
}

// procServingLine matches server.Start's announcement (slog text format).
var procServingLine = regexp.MustCompile(`msg="duro serving" addr=(\S+)`)

func (l *procLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := string(l.partial[:i])
		l.partial = l.partial[i+1:]
		if m := procServingLine.FindStringSubmatch(line); m != nil && !l.found {
			l.found = true
			l.addr <- m[1]
		}
	}
	return len(p), nil
}

// tail returns the last n bytes of output.
func (l *procLog) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buf.Bytes()
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// procDuro is a running `duro serve` child process.
type procDuro struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	log    *procLog
	addr   string
	exited chan struct{} // closed once the process has been reaped
	// started is when the process was started.
	started time.Time
}

// procStartDuro starts `duro serve` on a free loopback port (--listen
// 127.0.0.1:0; the address is read from the start-up log line) with the
// given data directory, and waits until GET /health answers 200. The
// process is killed when the test ends, if it still runs; its output is
// logged if the test failed.
func procStartDuro(t *testing.T, bin, dataDir, name string) *procDuro {
	t.Helper()
	return procStartDuroOn(t, bin, dataDir, name, "127.0.0.1:0", 30*time.Second)
}

// procStartDuroOn is procStartDuro on a given listen address, allowing
// wait for the start-up log line and as long again for GET /health (a
// restart on a large store takes longer).
func procStartDuroOn(t *testing.T, bin, dataDir, name, listen string, wait time.Duration) *procDuro {
	t.Helper()
	p := &procDuro{t: t, name: name, log: &procLog{addr: make(chan string, 1)}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, "serve",
		"--listen", listen, "--data-dir", dataDir,
		"--region", "us-east-1", "--account-id", "123456789012", "--log-level", "info")
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	// A killed server's worker processes could hold the output pipe open;
	// bound how long Wait keeps copying after the server is gone.
	p.cmd.WaitDelay = 5 * time.Second
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("output of %s (tail):\n%s", p.name, p.log.tail(6000))
		}
	})
	select {
	case p.addr = <-p.log.addr:
	case <-p.exited:
		t.Fatalf("%s exited before serving (%v):\n%s", name, p.cmd.ProcessState, p.log.tail(4000))
	case <-time.After(wait):
		t.Fatalf("%s did not announce its address within %v:\n%s", name, wait, p.log.tail(4000))
	}
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(wait)
	for {
		resp, err := hc.Get(p.URL() + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: GET /health did not answer 200 within %v (last error %v):\n%s", name, wait, err, p.log.tail(4000))
		}
		// Short: the suspended-executions test measures start-up with it.
		time.Sleep(5 * time.Millisecond)
	}
}

// URL is the child's base URL.
func (p *procDuro) URL() string { return "http://" + p.addr }

// kill sends SIGKILL and waits until the process is gone.
func (p *procDuro) kill() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatalf("SIGKILL %s: %v", p.name, err)
	}
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.t.Fatalf("%s survived SIGKILL for 10s", p.name)
	}
}

// terminate sends SIGTERM and returns the exit code once the process has
// exited; it fails the test if that takes longer than timeout.
func (p *procDuro) terminate(timeout time.Duration) int {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatalf("SIGTERM %s: %v", p.name, err)
	}
	select {
	case <-p.exited:
	case <-time.After(timeout):
		p.t.Fatalf("%s did not exit within %v of SIGTERM", p.name, timeout)
	}
	return p.cmd.ProcessState.ExitCode()
}

// swapEndpoint is the address of the Duro server a client talks to; it can
// change when the server restarts on another port. Each set starts a new
// generation (1, 2, ...), which tells apart what each server life answered.
type swapEndpoint struct {
	cur atomic.Pointer[swapTarget]
	gen atomic.Int32
}

type swapTarget struct {
	addr string
	gen  int
}

// set points clients at addr and returns the new generation.
func (s *swapEndpoint) set(addr string) int {
	g := int(s.gen.Add(1))
	s.cur.Store(&swapTarget{addr: addr, gen: g})
	return g
}

// swapPlaceholder is the BaseEndpoint of clients that go through a
// swapTransport: every request is redirected to the current address.
const swapPlaceholder = "http://duro-server.invalid"

// ackedUpdate is one operation update of a checkpoint the server
// acknowledged (answered 200); Gen is the swapEndpoint generation of the
// server that answered.
type ackedUpdate struct {
	Id, Name, Type, Action string
	Gen                    int
}

// ackRecorder records, per execution ARN, every operation update carried by
// an acknowledged CheckpointDurableExecution call. It is safe for
// concurrent use.
type ackRecorder struct {
	mu          sync.Mutex
	byArn       map[string][]ackedUpdate
	checkpoints int
	inFlight    atomic.Int32
}

func newAckRecorder() *ackRecorder { return &ackRecorder{byArn: map[string][]ackedUpdate{}} }

func (r *ackRecorder) add(arn string, ups []ackedUpdate) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byArn[arn] = append(r.byArn[arn], ups...)
	r.checkpoints++
}

// snapshot copies the record.
func (r *ackRecorder) snapshot() (byArn map[string][]ackedUpdate, checkpoints int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	byArn = make(map[string][]ackedUpdate, len(r.byArn))
	for k, v := range r.byArn {
		byArn[k] = append([]ackedUpdate(nil), v...)
	}
	return byArn, r.checkpoints
}

// count returns how many updates of type typ and action were acknowledged
// for arn by the server of generation gen.
func (r *ackRecorder) count(arn, typ, action string, gen int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return countAcked(r.byArn[arn], typ, action, gen)
}

// countAcked counts the updates of a type and action acknowledged by the
// server of generation gen.
func countAcked(ups []ackedUpdate, typ, action string, gen int) int {
	n := 0
	for _, u := range ups {
		if u.Type == typ && u.Action == action && u.Gen == gen {
			n++
		}
	}
	return n
}

// swapTransport sends every request to the swapEndpoint's current address
// and, when rec is set, records acknowledged checkpoints.
type swapTransport struct {
	ep   *swapEndpoint
	rec  *ackRecorder
	base http.RoundTripper
}

const (
	swapCheckpointPrefix = "/2025-12-01/durable-executions/"
	swapCheckpointSuffix = "/checkpoint"
)

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// wrapped transport; without it a server being stopped waits for the idle
// keep-alive connections to time out.
func (s *swapTransport) CloseIdleConnections() {
	if c, ok := s.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (s *swapTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	target := s.ep.cur.Load()
	if target == nil {
		return nil, errors.New("swapTransport: no server address yet")
	}
	out := req.Clone(req.Context())
	u := *req.URL
	u.Host = target.addr
	out.URL, out.Host = &u, target.addr

	// r.URL.Path is decoded, so the ARN's escaped slashes are slashes here;
	// the fixed prefix and suffix delimit it all the same.
	isCheckpoint := s.rec != nil && req.Method == http.MethodPost &&
		strings.HasPrefix(req.URL.Path, swapCheckpointPrefix) && strings.HasSuffix(req.URL.Path, swapCheckpointSuffix)
	if !isCheckpoint {
		return s.base.RoundTrip(out)
	}
	arn := strings.TrimSuffix(strings.TrimPrefix(req.URL.Path, swapCheckpointPrefix), swapCheckpointSuffix)
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
		out.Body = io.NopCloser(bytes.NewReader(b))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	var in struct {
		Updates []struct {
			Id, Name, Type, Action *string
		}
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("swapTransport: undecodable checkpoint body: %w", err)
	}
	s.rec.inFlight.Add(1)
	resp, err := s.base.RoundTrip(out)
	s.rec.inFlight.Add(-1)
	if err == nil && resp.StatusCode == http.StatusOK {
		// The server answers only after the checkpoint is durable: from
		// here on the checkpoint counts as acknowledged.
		ups := make([]ackedUpdate, 0, len(in.Updates))
		for _, u := range in.Updates {
			ups = append(ups, ackedUpdate{
				Id: aws.ToString(u.Id), Name: aws.ToString(u.Name), Type: aws.ToString(u.Type), Action: aws.ToString(u.Action), Gen: target.gen,
			})
		}
		s.rec.add(arn, ups)
	}
	return resp, err
}

// swapClient returns a Lambda client (dummy credentials) that talks to the
// endpoint's current address, recording acknowledged checkpoints in rec
// when rec is not nil.
func swapClient(ep *swapEndpoint, rec *ackRecorder) *lambda.Client {
	tr := &swapTransport{ep: ep, rec: rec, base: &http.Transport{MaxIdleConnsPerHost: 128, IdleConnTimeout: 30 * time.Second}}
	return lambda.New(lambda.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(swapPlaceholder),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDDURO", "duro-secret", ""),
		HTTPClient:   &http.Client{Transport: tr},
	})
}

// remoteFunctions serves durable functions over HTTP the way a Lambda
// runtime's Invoke endpoint does: Duro posts the invocation envelope, the
// handler answers with the durable handler output, or with
// X-Amz-Function-Error and a Lambda error payload when the invocation
// itself failed.
type remoteFunctions struct {
	srv *httptest.Server
	mux *http.ServeMux

	mu    sync.Mutex
	calls map[string]int // invocations received, by execution ARN
}

// newRemoteFunctions starts the function server; it is closed when the test
// ends (register it before anything whose cleanup must run first).
func newRemoteFunctions(t *testing.T) *remoteFunctions {
	t.Helper()
	r := &remoteFunctions{mux: http.NewServeMux(), calls: map[string]int{}}
	r.srv = httptest.NewServer(r.mux)
	t.Cleanup(r.srv.Close)
	return r
}

// serve routes the function name to fn, run with the durable SDK on client,
// and returns the URL to put in DURO_INVOKE_URL.
func (r *remoteFunctions) serve(name string, client *lambda.Client, fn durable.Func) string {
	r.mux.HandleFunc("POST /fn/"+name, func(w http.ResponseWriter, req *http.Request) {
		payload, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var env struct{ DurableExecutionArn string }
		if json.Unmarshal(payload, &env) == nil && env.DurableExecutionArn != "" {
			r.mu.Lock()
			r.calls[env.DurableExecutionArn]++
			r.mu.Unlock()
		}
		out, err := durable.Run(req.Context(), client, payload, fn)
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			typ := "Runtime.Error"
			var ie *durable.InvocationError
			if errors.As(err, &ie) {
				typ = ie.Type
			}
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			_ = json.NewEncoder(w).Encode(map[string]string{"errorType": typ, "errorMessage": err.Error()})
			return
		}
		_ = json.NewEncoder(w).Encode(out)
	})
	return r.srv.URL + "/fn/" + name
}

// invocations returns how many invocations of an execution reached the
// function server.
func (r *remoteFunctions) invocations(arn string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[arn]
}

// checkInvocationCount checks "exactly one InvocationCompleted per
// invocation" (protocol.md §6.1) from the function's side: every invocation
// that reached the function has one, and at most crashes more exist — the
// invocations a crash cut off before their request reached the function.
func (r *remoteFunctions) checkInvocationCount(events []types.Event, arn string, crashes int) string {
	completed := 0
	for _, ev := range events {
		if ev.EventType == types.EventTypeInvocationCompleted {
			completed++
		}
	}
	seen := r.invocations(arn)
	if completed < seen || completed > seen+crashes {
		return fmt.Sprintf("%d InvocationCompleted events for %d invocations received by the function (and %d crash(es))", completed, seen, crashes)
	}
	return ""
}

// createRemoteFunction registers a durable function (ExecutionTimeout
// 300 s) whose code is the remote handler at invokeURL.
func createRemoteFunction(t *testing.T, ctx context.Context, client *lambda.Client, name, invokeURL string, timeoutSeconds int32) {
	t.Helper()
	_, err := client.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName:  aws.String(name),
		Role:          aws.String("arn:aws:iam::123456789012:role/duro-test"),
		Code:          &types.FunctionCode{ZipFile: []byte("PK\x05\x06" + strings.Repeat("\x00", 18))}, // an empty zip: the code runs remotely
		Runtime:       types.RuntimeProvidedal2023,
		Handler:       aws.String("bootstrap"),
		Timeout:       aws.Int32(timeoutSeconds),
		DurableConfig: &types.DurableConfig{ExecutionTimeout: aws.Int32(300)},
		Environment:   &types.Environment{Variables: map[string]string{runtime.InvokeURLVariable: invokeURL}},
	})
	if err != nil {
		t.Fatalf("CreateFunction(%s): %v", name, err)
	}
}

// procStart starts an execution asynchronously (InvocationType Event,
// Qualifier $LATEST) and returns its ARN.
func procStart(t *testing.T, ctx context.Context, client *lambda.Client, fn, name, payload string) string {
	t.Helper()
	out, err := client.Invoke(ctx, &lambda.InvokeInput{
		FunctionName: aws.String(fn), Qualifier: aws.String("$LATEST"), InvocationType: types.InvocationTypeEvent,
		DurableExecutionName: aws.String(name), Payload: []byte(payload),
	})
	if err != nil {
		t.Fatalf("Invoke(%s, Event): %v", fn, err)
	}
	if out.StatusCode != http.StatusAccepted || aws.ToString(out.DurableExecutionArn) == "" {
		t.Fatalf("Invoke(%s, Event) = %d, ARN %q; want 202 with an ARN", fn, out.StatusCode, aws.ToString(out.DurableExecutionArn))
	}
	return *out.DurableExecutionArn
}

// procHistory reads an execution's whole history, oldest first.
func procHistory(ctx context.Context, client *lambda.Client, arn string) ([]types.Event, error) {
	var all []types.Event
	p := lambda.NewGetDurableExecutionHistoryPaginator(client, &lambda.GetDurableExecutionHistoryInput{
		DurableExecutionArn: aws.String(arn), MaxItems: 1000,
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Events...)
	}
	return all, nil
}

// procAwaitTerminal polls GetDurableExecution until every execution has
// left RUNNING or ctx ends, and returns the last description of each.
func procAwaitTerminal(ctx context.Context, client *lambda.Client, arns []string) (map[string]*lambda.GetDurableExecutionOutput, error) {
	last := map[string]*lambda.GetDurableExecutionOutput{}
	pending := append([]string(nil), arns...)
	for {
		var still []string
		for _, arn := range pending {
			d, err := client.GetDurableExecution(ctx, &lambda.GetDurableExecutionInput{DurableExecutionArn: aws.String(arn)})
			if err != nil {
				return last, fmt.Errorf("GetDurableExecution(%s): %w", arn, err)
			}
			last[arn] = d
			if d.Status == types.ExecutionStatusRunning {
				still = append(still, arn)
			}
		}
		if pending = still; len(pending) == 0 {
			return last, nil
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("%d of %d executions still RUNNING: %w", len(pending), len(arns), ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// procTerminalEvents are the execution-ending event types.
var procTerminalEvents = map[types.EventType]bool{
	types.EventTypeExecutionSucceeded: true, types.EventTypeExecutionFailed: true,
	types.EventTypeExecutionTimedOut: true, types.EventTypeExecutionStopped: true,
}

// procCheckWellFormed checks a finished execution's history (protocol.md
// §6.1): EventIds contiguous from 1, ExecutionStarted first, exactly one
// terminal event, last, and it is want. It returns the problems found.
func procCheckWellFormed(events []types.Event, want types.EventType) []string {
	var bad []string
	if len(events) == 0 {
		return []string{"empty history"}
	}
	if events[0].EventType != types.EventTypeExecutionStarted {
		bad = append(bad, fmt.Sprintf("first event is %s, want ExecutionStarted", events[0].EventType))
	}
	terminals := 0
	for i, ev := range events {
		if got := aws.ToInt32(ev.EventId); got != int32(i+1) {
			bad = append(bad, fmt.Sprintf("event #%d (%s) has EventId %d, want %d", i+1, ev.EventType, got, i+1))
		}
		if procTerminalEvents[ev.EventType] {
			terminals++
		}
	}
	if terminals != 1 {
		bad = append(bad, fmt.Sprintf("%d terminal events, want exactly 1", terminals))
	}
	if lastType := events[len(events)-1].EventType; lastType != want {
		bad = append(bad, fmt.Sprintf("last event is %s, want %s", lastType, want))
	}
	return bad
}

// procDump renders a history compactly for failure messages; long
// histories are cut in the middle.
func procDump(events []types.Event) string {
	var b strings.Builder
	for i, ev := range events {
		if len(events) > 60 && i >= 30 && i < len(events)-30 {
			if i == 30 {
				fmt.Fprintf(&b, "  ... %d events ...\n", len(events)-60)
			}
			continue
		}
		fmt.Fprintf(&b, "  %4d %-20s id=%s", aws.ToInt32(ev.EventId), ev.EventType, aws.ToString(ev.Id))
		if n := aws.ToString(ev.Name); n != "" {
			fmt.Fprintf(&b, " name=%s", n)
		}
		if d := ev.InvocationCompletedDetails; d != nil && d.Error != nil && d.Error.Payload != nil {
			fmt.Fprintf(&b, " error=%s: %s", aws.ToString(d.Error.Payload.ErrorType), aws.ToString(d.Error.Payload.ErrorMessage))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// procMetrics reads a server's /metrics: every series but histogram
// buckets, by its name with labels (duro_timer_lag_seconds_count{kind="wait"}).
func procMetrics(base string) (map[string]float64, bool) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") || strings.Contains(name, "_bucket") {
			continue
		}
		if v, err := strconv.ParseFloat(val, 64); err == nil {
			out[name] = v
		}
	}
	return out, sc.Err() == nil
}
