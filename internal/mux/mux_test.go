package mux

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/mutate"
)

// serve starts a Listener with h on a Unix socket, HTTP served beside it,
// and returns the socket's path.
func serve(t testing.TB, h http.Handler) (*Listener, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	l := Split(ln, h, slog.New(slog.DiscardHandler))
	hs := &http.Server{Handler: h}
	go hs.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(ctx)
		l.Shutdown(ctx)
	})
	return l, path
}

func dial(t testing.TB, path string) *Client {
	t.Helper()
	c, err := Dial(context.Background(), "unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// echo answers with what it saw, in its status and headers when asked.
func echo(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "text/plain")
	if e := r.Header.Get("X-Want-Error"); e != "" {
		w.Header().Set("X-Amzn-Errortype", e)
		w.WriteHeader(http.StatusNotFound)
	}
	fmt.Fprintf(w, "%s %s %s %s|%s|%d|%s", r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.RequestURI, r.Header.Get("X-Test"), r.ContentLength, b)
}

func TestRoundTrip(t *testing.T) {
	_, path := serve(t, http.HandlerFunc(echo))
	c := dial(t, path)
	big := strings.Repeat("x", 1<<20)
	for _, tc := range []struct {
		name, method, target, body string
		header                     http.Header
		status                     int
		want                       string
		wantHeader                 map[string]string
	}{
		{"escaped ARN", "POST", "/2025-12-01/durable-executions/arn%3Aaws%3Alambda%3Ax%2Fy/checkpoint", `{"a":1}`,
			http.Header{"X-Test": {"h"}}, 200,
			`POST /2025-12-01/durable-executions/arn%3Aaws%3Alambda%3Ax%2Fy/checkpoint  /2025-12-01/durable-executions/arn%3Aaws%3Alambda%3Ax%2Fy/checkpoint|h|7|{"a":1}`,
			map[string]string{"Content-Type": "text/plain"}},
		{"query, no body", "GET", "/state?Marker=3&MaxItems=10", "", nil, 200,
			"GET /state Marker=3&MaxItems=10 /state?Marker=3&MaxItems=10||0|", nil},
		{"error status and type", "GET", "/x", "", http.Header{"X-Want-Error": {"ResourceNotFoundException"}}, 404,
			"GET /x  /x||0|", map[string]string{"X-Amzn-Errortype": "ResourceNotFoundException"}},
		{"a large body", "PUT", "/big", big, nil, 200, "PUT /big  /big||1048576|" + big, nil},
		{"a header value with a newline stays on its line", "GET", "/n", "", http.Header{"X-Test": {"a\nb"}}, 200, "GET /n  /n|a b|0|", nil},
	} {
		r, err := c.Do(context.Background(), tc.method, tc.target, tc.header, []byte(tc.body))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if r.Status != tc.status || string(r.Body) != tc.want {
			t.Errorf("%s: %d %.200q, want %d %.200q", tc.name, r.Status, r.Body, tc.status, tc.want)
		}
		for k, v := range tc.wantHeader {
			if got := r.Header().Get(k); got != v {
				t.Errorf("%s: header %s = %q, want %q", tc.name, k, got, v)
			}
			if got := r.HeaderValue(k); got != v {
				t.Errorf("%s: HeaderValue(%s) = %q, want %q", tc.name, k, got, v)
			}
		}
	}
}

// Answers come back as handlers finish, each to its own request.
func TestAnswersOutOfOrder(t *testing.T) {
	_, path := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, _ := time.ParseDuration(r.URL.Query().Get("sleep"))
		time.Sleep(d)
		io.WriteString(w, r.URL.Query().Get("n"))
	}))
	c := dial(t, path)
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			sleep := time.Duration((n-i)%7) * time.Millisecond
			r, err := c.Do(context.Background(), "GET", fmt.Sprintf("/?n=%d&sleep=%s", i, sleep), nil, nil)
			if err != nil {
				errs <- err
				return
			}
			if string(r.Body) != fmt.Sprint(i) {
				errs <- fmt.Errorf("request %d got answer %q", i, r.Body)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Plain HTTP keeps working on the same socket.
func TestHTTPBeside(t *testing.T) {
	_, path := serve(t, http.HandlerFunc(echo))
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Post("http://duro/p%2Fq?a=1", "text/plain", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := "POST /p%2Fq a=1 /p%2Fq?a=1||4|body"; string(b) != want {
		t.Errorf("over HTTP: %q, want %q", b, want)
	}
	// And a multiplexed client at the same time.
	if r, err := dial(t, path).Do(context.Background(), "GET", "/m", nil, nil); err != nil || !strings.HasPrefix(string(r.Body), "GET /m") {
		t.Errorf("multiplexed beside HTTP: %v %v", r, err)
	}
}

// A frame the server cannot parse ends the connection.
func TestMalformedFramesCloseTheConnection(t *testing.T) {
	_, path := serve(t, http.HandlerFunc(echo))
	for _, tc := range []struct {
		name  string
		frame []byte
	}{
		{"length below the id", []byte{0, 0, 0, 2, 0, 0}},
		{"length above MaxFrame", binary.BigEndian.AppendUint32(nil, MaxFrame+1)},
		{"no request line", frame(1, "GET")},
		{"a target that is not a path", frame(1, "GET x\n\n")},
		{"no empty line after the headers", frame(1, "GET /\nA: b\n")},
		{"a header line without a colon", frame(1, "GET /\nnocolon\n\n")},
	} {
		nc, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		nc.Write(append([]byte(Preface), tc.frame...))
		b, err := io.ReadAll(nc)
		nc.Close()
		if err != nil || len(b) != 0 {
			t.Errorf("%s: read %q, %v; want the connection closed without an answer", tc.name, b, err)
		}
	}
}

// A frame announced large costs memory only as its bytes arrive: a peer
// that declares 64 MiB and sends a few bytes must not make the server
// allocate the 64 MiB.
func TestAnnouncedFrameLengthIsNotAllocatedUpFront(t *testing.T) {
	l, path := serve(t, http.HandlerFunc(echo))
	conns := func() int {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.conns)
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	nc, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	const announced = 64 << 20
	head := binary.BigEndian.AppendUint32([]byte(Preface), announced)
	if _, err := nc.Write(append(head, "\x00\x00\x00\x01GET / a few bytes"...)); err != nil {
		t.Fatal(err)
	}
	waitFor("the connection to be served", func() bool { return conns() == 1 })
	time.Sleep(50 * time.Millisecond) // the server reads what was sent
	nc.Close()
	waitFor("the connection to end", func() bool { return conns() == 0 })
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > announced/4 {
		t.Errorf("%d MiB allocated for a frame announced at %d MiB of which 20 bytes came", got>>20, announced>>20)
	}

	// A large frame that does arrive whole is read whole.
	big := strings.Repeat("x", 3<<20)
	resp, err := dial(t, path).Do(context.Background(), http.MethodPost, "/big", nil, []byte(big))
	if err != nil {
		t.Fatal(err)
	}
	if want := "POST /big  /big||" + fmt.Sprint(len(big)) + "|" + big; string(resp.Body) != want {
		t.Errorf("a %d-byte body came back as %d bytes", len(big), len(resp.Body))
	}
}

// gatedConn counts its writes and holds the first one until open is
// closed.
type gatedConn struct {
	net.Conn
	open   chan struct{}
	mu     sync.Mutex
	writes int
}

func (g *gatedConn) Write(b []byte) (int, error) {
	g.mu.Lock()
	g.writes++
	first := g.writes == 1
	g.mu.Unlock()
	if first {
		<-g.open
	}
	return g.Conn.Write(b)
}

// Requests sent while another is being written go out together: the last
// one queued flushes them all in one write.
func TestClientCoalescesWrites(t *testing.T) {
	_, path := serve(t, http.HandlerFunc(echo))
	nc, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	g := &gatedConn{Conn: nc, open: make(chan struct{})}
	c, err := newClient(g)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	const n = 50
	errs := make(chan error, n)
	send := func(i int) {
		r, err := c.Do(context.Background(), http.MethodGet, fmt.Sprintf("/r/%d", i), nil, nil)
		if err == nil && !strings.HasPrefix(string(r.Body), fmt.Sprintf("GET /r/%d ", i)) {
			err = fmt.Errorf("request %d answered %q", i, r.Body)
		}
		errs <- err
	}
	writes := func() int {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.writes
	}
	go send(0)
	// The first request is in its write, held by the gate, with the
	// connection's write lock: the others queue behind it.
	for deadline := time.Now().Add(5 * time.Second); writes() < 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first request never reached its write")
		}
	}
	for i := 1; i < n; i++ {
		go send(i)
	}
	for deadline := time.Now().Add(5 * time.Second); c.queued.Load() < n-1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d requests queued", c.queued.Load(), n-1)
		}
	}
	close(g.open)
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if w := writes(); w != 2 {
		t.Errorf("%d requests took %d writes, want 2: the held one, then the 49 queued behind it together", n, w)
	}
}

// A peer that stops in the middle of a frame is cut off once the frame's
// time is up; one that is idle between frames is not.
func TestStalledFrameClosesTheConnection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	const timeout = 100 * time.Millisecond
	var logged lockedBuffer
	l := split(ln, http.HandlerFunc(echo), slog.New(slog.NewTextHandler(&logged, nil)), timeout)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		l.Shutdown(ctx)
	})

	// Idle between frames, longer than the frame's time: still served.
	c := dial(t, path)
	for i := range 2 {
		if i > 0 {
			time.Sleep(3 * timeout)
		}
		if r, err := c.Do(context.Background(), http.MethodGet, "/idle", nil, nil); err != nil || r.Status != http.StatusOK {
			t.Fatalf("request %d after an idle spell: %v", i, err)
		}
	}

	// Ten bytes of a frame announced at 100, then nothing.
	nc, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	head := binary.BigEndian.AppendUint32([]byte(Preface), 100)
	if _, err := nc.Write(append(head, "\x00\x00\x00\x01GET /x"...)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	nc.SetReadDeadline(start.Add(5 * time.Second))
	b, err := io.ReadAll(nc)
	if err != nil || len(b) != 0 {
		t.Fatalf("read %q, %v; want the connection closed without an answer", b, err)
	}
	if waited := time.Since(start); waited > 2*time.Second {
		t.Errorf("closed after %v, want about %v", waited, timeout)
	}

	// The cut is logged at the default level, saying why.
	want := "a frame stopped arriving: 10 of 100 bytes" // the id and "GET /x"
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(logged.String(), want); {
		if time.Now().After(deadline) {
			t.Fatalf("log %q, want a warning with %q", logged.String(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if out := logged.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "multiplexed connection cut") {
		t.Errorf("log %q, want a WARN line \"multiplexed connection cut\"", out)
	}
}

// lockedBuffer is a log destination that a test reads while the server
// writes it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// flakyListener fails its first accepts, as a listener out of file
// descriptors does, before it accepts for real.
type flakyListener struct {
	net.Listener
	mu    sync.Mutex
	fails int
}

func (f *flakyListener) Accept() (net.Conn, error) {
	f.mu.Lock()
	if f.fails > 0 {
		f.fails--
		f.mu.Unlock()
		return nil, fmt.Errorf("accept: %w", syscall.EMFILE)
	}
	f.mu.Unlock()
	return f.Listener.Accept()
}

// Accept errors other than a closed listener are waited out: the
// connection that comes after them is served, HTTP ones too.
func TestAcceptErrorsAreRetried(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	fl := &flakyListener{Listener: ln, fails: 3}
	l := Split(fl, http.HandlerFunc(echo), slog.New(slog.DiscardHandler))
	hs := &http.Server{Handler: http.HandlerFunc(echo)}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(l) }()

	r, err := dial(t, path).Do(context.Background(), http.MethodGet, "/after-errors", nil, nil)
	if err != nil || !strings.HasPrefix(string(r.Body), "GET /after-errors ") {
		t.Fatalf("request after 3 failed accepts: %v", err)
	}
	fl.mu.Lock()
	left := fl.fails
	fl.mu.Unlock()
	if left != 0 {
		t.Errorf("%d accept failures left, want all 3 gone through", left)
	}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", path)
	}}}
	resp, err := hc.Get("http://duro/http-too")
	if err != nil {
		t.Fatalf("HTTP after failed accepts: %v", err)
	}
	resp.Body.Close()
	hc.CloseIdleConnections()

	// Closing the listener still ends Accept, and so the HTTP server.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hs.Shutdown(ctx)
	l.Shutdown(ctx)
	select {
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("http.Server.Serve returned %v", err)
		}
	case <-ctx.Done():
		t.Fatal("Serve did not return after Shutdown")
	}
}

func frame(id uint32, payload string) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(4+len(payload)))
	b = binary.BigEndian.AppendUint32(b, id)
	return append(b, payload...)
}

// Shutdown lets a request in flight finish and answers it, then closes the
// connection.
func TestShutdownAnswersRequestsInFlight(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	l, path := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "done")
	}))
	c := dial(t, path)
	got := make(chan string, 1)
	go func() {
		r, err := c.Do(context.Background(), "GET", "/slow", nil, nil)
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(r.Body)
	}()
	<-entered
	shut := make(chan error, 1)
	go func() { shut <- l.Shutdown(context.Background()) }()
	time.Sleep(50 * time.Millisecond)
	close(release)
	if g := <-got; g != "done" {
		t.Errorf("request in flight at Shutdown got %q, want its answer", g)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if _, err := c.Do(context.Background(), "GET", "/after", nil, nil); err == nil {
		t.Error("a request after Shutdown succeeded")
	}
}

// A client that goes away cancels the requests it had sent.
func TestClientGoneCancelsRequests(t *testing.T) {
	entered, cancelled := make(chan struct{}), make(chan struct{})
	_, path := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		select {
		case <-r.Context().Done():
			close(cancelled)
		case <-time.After(10 * time.Second):
		}
	}))
	c := dial(t, path)
	go c.Do(context.Background(), "GET", "/wait", nil, nil)
	<-entered
	c.Close()
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler's context was not cancelled when its client went away")
	}
}

// A handler that panics answers 500; the connection goes on.
func TestPanicAnswers500(t *testing.T) {
	_, path := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		io.WriteString(w, "ok")
	}))
	c := dial(t, path)
	if r, err := c.Do(context.Background(), "GET", "/panic", nil, nil); err != nil || r.Status != http.StatusInternalServerError {
		t.Errorf("panicking handler: %v, %v; want a 500", r, err)
	}
	if r, err := c.Do(context.Background(), "GET", "/ok", nil, nil); err != nil || !bytes.Equal(r.Body, []byte("ok")) {
		t.Errorf("after the panic: %v, %v", r, err)
	}
}

// A request whose context ends returns; its late answer is dropped and
// the connection serves the next one.
func TestRequestContext(t *testing.T) {
	_, path := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(200 * time.Millisecond)
		}
		io.WriteString(w, r.URL.Path)
	}))
	c := dial(t, path)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.Do(ctx, "GET", "/slow", nil, nil); err != context.DeadlineExceeded {
		t.Errorf("Do past its deadline: %v, want context.DeadlineExceeded", err)
	}
	time.Sleep(250 * time.Millisecond) // the late answer arrives and is dropped
	if r, err := c.Do(context.Background(), "GET", "/next", nil, nil); err != nil || string(r.Body) != "/next" {
		t.Errorf("next request: %v, %v", r, err)
	}
}

// Shutdown past its context cancels the requests still running and
// returns.
func TestShutdownDeadlineCancelsRequests(t *testing.T) {
	entered := make(chan struct{})
	l, path := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done()
	}))
	c := dial(t, path)
	go c.Do(context.Background(), "GET", "/forever", nil, nil)
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- l.Shutdown(ctx) }()
	select {
	case err := <-done:
		if err != context.DeadlineExceeded {
			t.Errorf("Shutdown = %v, want context.DeadlineExceeded", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not return after its deadline")
	}
}

// Requests one after the other run on the same handler goroutine, whose
// stack has already grown, rather than one new goroutine each.
func TestHandlerGoroutinesAreReused(t *testing.T) {
	_, path := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 64)
		line := string(buf[:runtime.Stack(buf, false)]) // "goroutine 42 [running]:..."
		id, _, _ := strings.Cut(strings.TrimPrefix(line, "goroutine "), " ")
		io.WriteString(w, id)
	}))
	c := dial(t, path)
	seen := map[string]bool{}
	for range 20 {
		r, err := c.Do(context.Background(), "GET", "/", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		seen[string(r.Body)] = true
	}
	if len(seen) > 2 {
		t.Errorf("20 sequential requests ran on %d goroutines, want them reused", len(seen))
	}
}

// TestRecycledAnswersStartEmpty checks that an answer written with a
// recycled responseWriter carries nothing of the answers before it: not
// their headers, their status or their bytes. Sequential requests on one
// connection reuse the same writer.
func TestRecycledAnswersStartEmpty(t *testing.T) {
	_, path := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Header().Set("X-Big", "1")
			w.WriteHeader(http.StatusTeapot)
			io.WriteString(w, strings.Repeat("b", maxKept+1))
		case "/headers":
			w.Header().Set("X-First", "1")
			w.Header().Add("X-First", "2")
			w.WriteHeader(http.StatusAccepted)
			io.WriteString(w, "first answer, the longer one")
		default:
			io.WriteString(w, "short")
		}
	}))
	c := dial(t, path)
	for _, tc := range []struct {
		target     string
		status     int
		body       string
		wantHeader http.Header
	}{
		{"/headers", http.StatusAccepted, "first answer, the longer one", http.Header{"X-First": {"1", "2"}}},
		{"/plain", http.StatusOK, "short", http.Header{}},
		{"/big", http.StatusTeapot, strings.Repeat("b", maxKept+1), http.Header{"X-Big": {"1"}}},
		{"/plain", http.StatusOK, "short", http.Header{}},
		{"/headers", http.StatusAccepted, "first answer, the longer one", http.Header{"X-First": {"1", "2"}}},
		{"/plain", http.StatusOK, "short", http.Header{}},
	} {
		r, err := c.Do(context.Background(), "GET", tc.target, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != tc.status || string(r.Body) != tc.body {
			t.Errorf("%s: status %d, body %.40q (%d bytes); want %d, %.40q", tc.target, r.Status, r.Body, len(r.Body), tc.status, tc.body)
		}
		if fmt.Sprint(r.Header()) != fmt.Sprint(tc.wantHeader) {
			t.Errorf("%s: header %v, want %v", tc.target, r.Header(), tc.wantHeader)
		}
	}
}

// TestBodyBuffer: a body appended to BodyBuffer's slice and written is the
// answer's body, after what was written before it, whether it fits the
// room asked for or outgrows it; and the slice is the body's own memory.
func TestBodyBuffer(t *testing.T) {
	_, path := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bb := w.(interface{ BodyBuffer(int) []byte })
		io.WriteString(w, "head|")
		n := len(r.URL.Path) * 10
		b := bb.BodyBuffer(n)
		if cap(b) < n || len(b) != 0 {
			t.Errorf("BodyBuffer(%d): len %d cap %d", n, len(b), cap(b))
		}
		b = append(b, r.URL.Path...)
		b = append(b, strings.Repeat("x", len(r.URL.Path)*20)...) // past the room asked for
		w.Write(b)
		io.WriteString(w, "|tail")
	}))
	c := dial(t, path)
	for _, target := range []string{"/a", "/bbbbbbbb"} {
		r, err := c.Do(context.Background(), "GET", target, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := "head|" + target + strings.Repeat("x", len(target)*20) + "|tail"
		if string(r.Body) != want {
			t.Errorf("%s: body %q, want %q", target, r.Body, want)
		}
	}
	w := &responseWriter{header: http.Header{}}
	b := append(w.BodyBuffer(8), "12345678"...)
	w.Write(b)
	if got := w.body.Bytes(); string(got) != "12345678" || &got[0] != &b[0] {
		t.Errorf("body %q, its own memory %v; want the appended bytes, not copied", got, &got[0] == &b[0])
	}
}

// TestReleasedAnswers: answers read into the memory of released ones are
// whole and right, whatever their sizes, and an answer not released is
// never written over by a later one.
func TestReleasedAnswers(t *testing.T) {
	_, path := serve(t, http.HandlerFunc(echo))
	c := dial(t, path)
	kept, err := c.Do(context.Background(), "POST", "/kept", nil, []byte("keep me"))
	if err != nil {
		t.Fatal(err)
	}
	keptBody := string(kept.Body)
	for i, size := range []int{10, 3000, 1, 70 << 10, 200, 0, 5000} {
		body := strings.Repeat(string(rune('a'+i)), size)
		r, err := c.Do(context.Background(), "POST", "/r", nil, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("POST /r  /r||%d|%s", size, body)
		if string(r.Body) != want || r.HeaderValue("Content-Type") != "text/plain" {
			t.Fatalf("answer %d (%d bytes): %.60q, Content-Type %q; want %.60q", i, size, r.Body, r.HeaderValue("Content-Type"), want)
		}
		r.Release()
		r.Release() // a second Release is harmless
	}
	if string(kept.Body) != keptBody || !strings.HasSuffix(keptBody, "|keep me") {
		t.Errorf("an answer not released changed: %q, was %q", kept.Body, keptBody)
	}
}

// TestParseTargetAgreesWithParseRequestURI holds parseTarget to
// url.ParseRequestURI on targets of the API's shapes and on random
// mutations of them: the same error or none, and the same path, escaped
// path, query and string.
func TestParseTargetAgreesWithParseRequestURI(t *testing.T) {
	targets := []string{
		"/2025-12-01/durable-executions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af%3A%24LATEST%2Fdurable-execution%2Fn%2Fid/checkpoint",
		"/2025-12-01/durable-executions/arn%3Aaws/state?CheckpointToken=abc%2B%2F%3D&Marker=&MaxItems=1000",
		"/2015-03-31/functions/fn/invocations", "/", "/a/b/", "/a%2fb", "/%e2%82%AC", "/a+b%20c", "/x?", "/x??", "/x?a?b",
		"//host/path", "/a%zz", "/a%2", "/a%", "/a b", "/a\x7fb", "/a\x01b", "/a#frag", "/x?q#frag", "/x?a b", "/é",
		"/a/./b", "/a/../b", "/$LATEST", "/a:b@c", "*", "a/b", "",
	}
	targets = append(targets, mutate.Near(rand.New(rand.NewPCG(5, 6)), targets[:3], "aZ09/%2F%3a?=&#+ .~-_:@$é\x00\x7f", 20000, 3)...)
	for _, target := range targets {
		got, gotErr := parseTarget(target)
		want, wantErr := url.ParseRequestURI(target)
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("parseTarget(%q): error %v, ParseRequestURI's %v", target, gotErr, wantErr)
		}
		if gotErr != nil {
			continue
		}
		if got.Path != want.Path || got.EscapedPath() != want.EscapedPath() || got.RawQuery != want.RawQuery ||
			got.ForceQuery != want.ForceQuery || got.String() != want.String() || got.Host != want.Host || got.Scheme != want.Scheme || got.Opaque != want.Opaque {
			t.Fatalf("parseTarget(%q) = %#v, ParseRequestURI gives %#v", target, got, want)
		}
	}
}

// TestReleasedRequestBodies: requests read into the memory of released
// bodies arrive whole, whatever their sizes and however many are in
// flight, and a released body reads as empty.
func TestReleasedRequestBodies(t *testing.T) {
	_, path := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := string(r.Body.(interface{ Bytes() []byte }).Bytes()) // a copy
		r.Body.(interface{ Release() }).Release()
		if rest := r.Body.(interface{ Bytes() []byte }).Bytes(); len(rest) != 0 {
			t.Errorf("a released body still has %d bytes", len(rest))
		}
		io.WriteString(w, b)
	}))
	c := dial(t, path)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, size := range []int{10, 3000, 1, 70 << 10, 200, 5000, 17} {
				body := strings.Repeat(string(rune('a'+(g+i)%26)), size)
				r, err := c.Do(context.Background(), "POST", "/r", nil, []byte(body))
				if err != nil {
					t.Error(err)
					return
				}
				if string(r.Body) != body {
					t.Errorf("goroutine %d, request %d (%d bytes): answer %.40q (%d bytes)", g, i, size, r.Body, len(r.Body))
				}
			}
		}()
	}
	wg.Wait()
}

// TestHeaderValueAgreesWithHeader: an answer's HeaderValue gives what its
// parsed Header's Get gives, for keys in any case and spelling.
func TestHeaderValueAgreesWithHeader(t *testing.T) {
	payload := "200\nContent-Type: application/json\nx-amzn-RequestId:  id-1 \nX-Amz-Function-Error: Unhandled\n" +
		"x-amzn-requestid: second\nOdd Key: spaced\nEmpty:\n\nbody"
	r, err := parseAnswer([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Body) != "body" {
		t.Fatalf("body %q, want %q", r.Body, "body")
	}
	h := r.Header()
	// Written out, as net/http's textproto reader would build it: Header
	// and HeaderValue share their line splitting, so each needs a
	// reference of its own.
	want := http.Header{
		"Content-Type":         {"application/json"},
		"X-Amzn-Requestid":     {"id-1", "second"},
		"X-Amz-Function-Error": {"Unhandled"},
		"Odd Key":              {"spaced"},
		"Empty":                {""},
	}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("Header() = %v, want %v", h, want)
	}
	for _, k := range []string{"Content-Type", "content-type", "X-Amzn-Requestid", "x-amzn-RequestId", "X-AMZ-FUNCTION-ERROR",
		"Odd Key", "odd key", "Empty", "Missing", "", "Content-Typ", "Content-Type2"} {
		if got, want := r.HeaderValue(k), h.Get(k); got != want {
			t.Errorf("HeaderValue(%q) = %q, Header().Get gives %q", k, got, want)
		}
	}
	for _, bad := range []string{"200\nNo-Colon\n\n", "200\n: v\n\n", "200\nK: v\n"} {
		if _, err := parseAnswer([]byte(bad)); err == nil {
			t.Errorf("parseAnswer(%q): no error", bad)
		}
	}
}

// BenchmarkRoundTrip measures one request and its answer through a Client
// and a Listener on a Unix socket, with bodies the size of a step's
// checkpoint and its answer, from 32 goroutines at once (so that writes
// are shared as under load). ns/op and allocs/op are per request, both
// ends included.
func BenchmarkRoundTrip(b *testing.B) {
	answer := []byte(strings.Repeat("a", 300))
	_, path := serve(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	c := dial(b, path)
	body := []byte(strings.Repeat("b", 600))
	header := http.Header{"Content-Type": {"application/json"}}
	b.SetParallelism(16) // 32 goroutines on two CPUs
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r, err := c.Do(context.Background(), http.MethodPost, "/2025-12-01/durable-executions/arn%3Ax/checkpoint", header, body)
			if err != nil || r.Status != http.StatusOK || len(r.Body) != len(answer) {
				b.Errorf("round trip: %v", err)
				return
			}
		}
	})
}

// TestWriteFrameReadsBack checks that a frame written into a buffered
// writer (its length counted before it is written) reads back whole: id,
// first line, header lines (a value's line breaks turned into spaces) and
// body, for bodies inside and larger than the writer's buffer.
func TestWriteFrameReadsBack(t *testing.T) {
	for _, tc := range []struct {
		name  string
		head  frameHead
		first string
		body  int
	}{
		{"request", frameHead{method: "POST", target: "/a%2Fb?x=1"}, "POST /a%2Fb?x=1", 600},
		{"answer", frameHead{status: http.StatusOK}, "200", 300},
		{"empty answer", frameHead{status: http.StatusNotFound}, "404", 0},
		{"large request", frameHead{method: "PUT", target: "/big"}, "PUT /big", 200 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			bw := bufio.NewWriterSize(&out, 64<<10)
			bw.WriteString("before") // a frame can start anywhere in the buffer
			body := bytes.Repeat([]byte("z"), tc.body)
			header := http.Header{"Content-Type": {"application/json"}, "X-Two": {"1", "line\r\nbreak"}, "X-Raw": {"\xff\r\n\xfe"}}
			if err := writeFrame(bw, 7, tc.head, header, body); err != nil {
				t.Fatal(err)
			}
			if err := bw.Flush(); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(&out)
			if skip, _ := br.Discard(len("before")); skip != len("before") {
				t.Fatal("short buffer")
			}
			id, _, payload, err := readFrame(br, nil, 0, nil)
			if err != nil || id != 7 {
				t.Fatalf("readFrame: id %d, %v", id, err)
			}
			first, rest, _ := bytes.Cut(payload, []byte{'\n'})
			if string(first) != tc.first {
				t.Errorf("first line %q, want %q", first, tc.first)
			}
			h, b, err := parseHeader(rest)
			if err != nil {
				t.Fatal(err)
			}
			want := http.Header{"Content-Type": {"application/json"}, "X-Two": {"1", "line  break"}, "X-Raw": {"\xff  \xfe"}} // bytes kept as they are
			if fmt.Sprint(h) != fmt.Sprint(want) {
				t.Errorf("header %v, want %v", h, want)
			}
			if !bytes.Equal(b, body) {
				t.Errorf("body of %d bytes, want %d", len(b), len(body))
			}
			if br.Buffered() != 0 {
				t.Errorf("%d bytes left after the frame: its length was miscounted", br.Buffered())
			}
		})
	}
}

// TestRequestFields checks what a handler sees of a multiplexed request
// beyond its echo: the method, a common one or not, and the connection's
// address, the same for every request on it.
func TestRequestFields(t *testing.T) {
	type seen struct{ method, remote string }
	got := make(chan seen, 2)
	_, path := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.Method, r.RemoteAddr}
	}))
	c := dial(t, path)
	var remotes []string
	for _, method := range []string{http.MethodPost, "PATCH"} {
		if _, err := c.Do(context.Background(), method, "/x", nil, nil); err != nil {
			t.Fatal(err)
		}
		s := <-got
		if s.method != method {
			t.Errorf("method %q, want %q", s.method, method)
		}
		if !strings.HasPrefix(s.remote, "mux@") {
			t.Errorf("RemoteAddr %q, want mux@ and the socket's peer address", s.remote)
		}
		remotes = append(remotes, s.remote)
	}
	if remotes[0] != remotes[1] {
		t.Errorf("RemoteAddr %q then %q on one connection", remotes[0], remotes[1])
	}
}
