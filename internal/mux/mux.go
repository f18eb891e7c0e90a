// Package mux serves an http.Handler over a multiplexed, framed protocol
// on stream connections, beside plain HTTP on the same listener. Duro's
// own function processes on the machine use it on the server's Unix
// socket: a Node worker serving a hundred invocations keeps one
// connection, its requests travel in frames that may be written together,
// answers come back in whatever order the handlers finish, several in one
// write when a group commit answers several checkpoints at once. Each
// request still runs through the same handler chain as over HTTP, so the
// API's behaviour is the same; what goes is net/http's per-request
// connection work and one round of system calls per request.
//
// A connection opens with Preface. Then both directions carry frames:
//
//	length  uint32, big endian: the bytes that follow it (at least 4)
//	id      uint32, big endian: chosen by the client; the answer carries it
//	payload
//
// A request's payload is "METHOD TARGET\n", header lines "Key: Value\n",
// an empty line "\n" and the body; an answer's is "STATUS\n", header lines,
// "\n" and the body. TARGET is an HTTP request target (path and query,
// escaped as on the wire). A frame the server cannot parse closes the
// connection, and so does one whose bytes stop coming for frameTimeout
// after its length; the client then fails what it was waiting for.
package mux

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Preface is what a multiplexed connection sends first. No HTTP request
// starts with it.
const Preface = "DURO-MUX/1\n"

// MaxFrame bounds a frame's length field. It is above the API's largest
// request (a function's zip, 50 MB, base64 in JSON) so that the handlers'
// own limits, and their errors, apply first.
const MaxFrame = 80 << 20

// classifyTimeout is how long a new connection has to send its first
// bytes before it is closed.
const classifyTimeout = 10 * time.Second

// frameTimeout is how long the rest of a frame may take to arrive once its
// length has: a connection whose peer stops in the middle of a frame is
// closed. Between frames a connection may stay idle.
const frameTimeout = 30 * time.Second

// Listener accepts connections on a listener: those that open with
// Preface it serves itself, the others it hands out through Accept, their
// first bytes included, for an http.Server to serve.
type Listener struct {
	ln      net.Listener
	handler http.Handler
	log     *slog.Logger

	httpConns chan net.Conn
	closed    chan struct{}
	closeOnce sync.Once
	acceptErr error // set before closed is closed, once

	// frameTimeout is how long a begun frame may take (the constant
	// frameTimeout; tests shorten it).
	frameTimeout time.Duration

	mu    sync.Mutex
	conns map[*conn]struct{}
	wg    sync.WaitGroup // the multiplexed connections' goroutines

	// work hands a request to an idle handler goroutine (see dispatch).
	work chan job

	// writers keeps answered responseWriters for the next requests (see
	// newResponseWriter), and frames released requests' memory (see
	// frameBody.Release) for the next requests to be read into.
	writers sync.Pool
	frames  framePool

	requests atomic.Uint64 // multiplexed requests read
}

// job is a request to handle on c, answered with id.
type job struct {
	c  *conn
	id uint32
	r  *http.Request
}

// workerIdle is how long a handler goroutine waits for its next request
// before it exits.
const workerIdle = 30 * time.Second

// Split starts accepting on ln and returns the listener of its HTTP
// connections; the multiplexed ones are served with h.
func Split(ln net.Listener, h http.Handler, log *slog.Logger) *Listener {
	return split(ln, h, log, frameTimeout)
}

// split is Split with the time a frame may take once begun.
func split(ln net.Listener, h http.Handler, log *slog.Logger, frameTimeout time.Duration) *Listener {
	if log == nil {
		log = slog.Default()
	}
	l := &Listener{ln: ln, handler: h, log: log, httpConns: make(chan net.Conn), closed: make(chan struct{}), conns: map[*conn]struct{}{},
		work: make(chan job), frameTimeout: frameTimeout}
	go l.acceptLoop()
	return l
}

// acceptLoop accepts until the listener is closed. Other accept errors
// (out of file descriptors, say) are waited out, as net/http does.
func (l *Listener) acceptLoop() {
	var backoff time.Duration
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				l.closeWith(err)
				return
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			l.log.Warn("accept on the Unix socket", "err", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
				continue
			case <-l.closed:
				return
			}
		}
		backoff = 0
		go l.classify(c)
	}
}

// classify reads a new connection's first bytes and serves it or hands it
// to Accept.
func (l *Listener) classify(c net.Conn) {
	br := bufio.NewReaderSize(c, 64<<10)
	_ = c.SetReadDeadline(time.Now().Add(classifyTimeout))
	first, err := br.Peek(len(Preface))
	_ = c.SetReadDeadline(time.Time{})
	if err == nil && string(first) == Preface {
		_, _ = br.Discard(len(Preface))
		l.serve(c, br)
		return
	}
	if len(first) == 0 && err != nil {
		c.Close()
		return
	}
	select {
	case l.httpConns <- &peekedConn{Conn: c, r: br}:
	case <-l.closed:
		c.Close()
	}
}

// Accept returns the next connection that is not multiplexed.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.httpConns:
		return c, nil
	case <-l.closed:
		if l.acceptErr != nil {
			return nil, l.acceptErr
		}
		return nil, net.ErrClosed
	}
}

// Close stops accepting connections. Multiplexed connections stay until
// Shutdown.
func (l *Listener) Close() error { return l.closeWith(nil) }

// closeWith closes the listener once; acceptErr, when not nil, is what
// Accept returns from then on.
func (l *Listener) closeWith(acceptErr error) error {
	var err error
	l.closeOnce.Do(func() {
		l.acceptErr = acceptErr
		err = l.ln.Close()
		close(l.closed)
	})
	return err
}

// Requests is the number of multiplexed requests read so far.
func (l *Listener) Requests() uint64 { return l.requests.Load() }

// Addr is the underlying listener's address.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Shutdown closes the listener, stops reading requests on the multiplexed
// connections, waits until the requests they carry have been answered or
// ctx ends, and closes them.
func (l *Listener) Shutdown(ctx context.Context) error {
	l.Close()
	l.mu.Lock()
	for c := range l.conns {
		c.stopReading()
	}
	l.mu.Unlock()
	done := make(chan struct{})
	go func() {
		l.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		l.mu.Lock()
		for c := range l.conns {
			c.cancel() // the requests still running give up
			c.c.Close()
		}
		l.mu.Unlock()
		<-done
		return ctx.Err()
	}
}

// peekedConn is a connection whose first bytes were read into r.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (p *peekedConn) Read(b []byte) (int, error) { return p.r.Read(b) }

// conn is one multiplexed connection.
type conn struct {
	l      *Listener
	c      net.Conn
	ctx    context.Context // cancelled when the connection ends
	cancel context.CancelFunc
	out    chan outFrame  // answers, for the writer
	reqs   sync.WaitGroup // requests being handled
	remote string         // the requests' RemoteAddr
}

func (l *Listener) serve(nc net.Conn, br *bufio.Reader) {
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{l: l, c: nc, ctx: ctx, cancel: cancel, out: make(chan outFrame, 256), remote: "mux@" + nc.RemoteAddr().String()}
	l.mu.Lock()
	select {
	case <-l.closed:
		l.mu.Unlock()
		nc.Close()
		cancel()
		return
	default:
	}
	l.conns[c] = struct{}{}
	l.wg.Add(1)
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.conns, c)
		l.mu.Unlock()
		l.wg.Done()
	}()

	writerDone := make(chan struct{})
	go c.writeLoop(writerDone)
	err := c.readLoop(br)
	if !errors.Is(err, errStopped) {
		// The client is gone (or broke the protocol): as net/http does
		// for a closed connection, the requests it sent are cancelled.
		// On Shutdown they finish.
		cancel()
		switch {
		case errors.Is(err, errFrameStalled):
			// A peer that hangs mid-frame is broken or hostile: worth
			// seeing without debug logging.
			l.log.Warn("multiplexed connection cut", "err", err)
		case !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed):
			l.log.Debug("multiplexed connection ended", "err", err)
		}
	}
	c.reqs.Wait()
	close(c.out)
	<-writerDone
	cancel()
	nc.Close()
}

// errStopped ends a read loop that Shutdown stopped.
var errStopped = errors.New("mux: shutting down")

// stopReading makes the read loop return: its blocked read fails.
func (c *conn) stopReading() {
	_ = c.c.SetReadDeadline(time.Unix(1, 0))
}

func (c *conn) readLoop(br *bufio.Reader) error {
	for {
		id, frame, payload, err := readFrame(br, c.c, c.l.frameTimeout, c.l.frames.get())
		if err != nil {
			if c.stopped() {
				return errStopped
			}
			return err
		}
		req, err := c.request(payload, frame)
		if err != nil {
			return err
		}
		c.reqs.Add(1)
		c.l.requests.Add(1)
		c.l.dispatch(job{c, id, req})
	}
}

// dispatch runs a request on an idle handler goroutine, or on a new one
// if none is idle. Handler goroutines are kept for the next requests: a
// handler's call chain is deep, and a new goroutine would grow its stack
// again for every request (a tenth of the server's CPU, measured with a
// goroutine per request).
func (l *Listener) dispatch(j job) {
	select {
	case l.work <- j:
	default:
		go l.worker(j)
	}
}

func (l *Listener) worker(j job) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		j.c.handle(j.id, j.r)
		j = job{}
		idle.Reset(workerIdle)
		select {
		case j = <-l.work:
		case <-idle.C:
			return
		case <-l.closed:
			return
		}
	}
}

// readFrame reads one frame, into buf when it fits there and into memory
// of its own otherwise, and returns its id, its payload and the whole
// frame (the memory the payload is in). A connection that ends between two
// frames gives io.EOF itself. When nc is not nil, it is closed if the rest
// of a frame has not arrived within timeout of its length.
func readFrame(br *bufio.Reader, nc net.Conn, timeout time.Duration, buf []byte) (id uint32, frame, payload []byte, err error) {
	var size [4]byte
	if _, err := io.ReadFull(br, size[:]); err != nil {
		return 0, nil, nil, err
	}
	n := int(binary.BigEndian.Uint32(size[:]))
	if n < 4 || n > MaxFrame {
		return 0, nil, nil, fmt.Errorf("mux: frame length %d", n)
	}
	var stalled *atomic.Bool
	if nc != nil && br.Buffered() < n {
		stalled = new(atomic.Bool)
		t := time.AfterFunc(timeout, func() {
			stalled.Store(true)
			nc.Close()
		})
		defer t.Stop()
	}
	// The length is the peer's word: memory is taken as the bytes arrive,
	// at most doubling what has arrived, so that a frame announced large
	// and never sent costs little.
	frame = buf[:0]
	if cap(frame) < n {
		frame = make([]byte, 0, min(n, frameChunk))
	}
	for len(frame) < n {
		if len(frame) == cap(frame) {
			frame = slices.Grow(frame, min(n-len(frame), len(frame)))
		}
		m, err := io.ReadFull(br, frame[len(frame):min(n, cap(frame))])
		frame = frame[:len(frame)+m]
		if err != nil {
			if stalled != nil && stalled.Load() {
				return 0, nil, nil, fmt.Errorf("%w: %d of %d bytes in %v", errFrameStalled, len(frame), n, timeout)
			}
			return 0, nil, nil, fmt.Errorf("mux: read frame: %w", err)
		}
	}
	return binary.BigEndian.Uint32(frame[:4]), frame, frame[4:], nil
}

// errFrameStalled ends a connection whose peer stopped sending in the
// middle of a frame.
var errFrameStalled = errors.New("mux: a frame stopped arriving")

// frameChunk is what readFrame allocates before a frame's bytes arrive:
// most frames (checkpoints, their answers) fit.
const frameChunk = 64 << 10

// stopped reports whether Shutdown stopped the reads.
func (c *conn) stopped() bool {
	select {
	case <-c.l.closed:
		return true
	default:
		return false
	}
}

// request parses a request payload, read in frame. Nothing of the request
// but its body refers to frame (see frameBody.Release).
func (c *conn) request(p, frame []byte) (*http.Request, error) {
	line, rest, ok := bytes.Cut(p, []byte{'\n'})
	if !ok {
		return nil, errors.New("mux: request without a request line")
	}
	method, target, ok := bytes.Cut(line, []byte{' '})
	if !ok || len(method) == 0 || len(target) == 0 || target[0] != '/' {
		return nil, fmt.Errorf("mux: malformed request line %q", line)
	}
	header, body, err := parseHeader(rest)
	if err != nil {
		return nil, err
	}
	uri := string(target)
	u, err := parseTarget(uri)
	if err != nil {
		return nil, fmt.Errorf("mux: request target: %w", err)
	}
	host := header.Get("Host")
	if host == "" {
		host = "localhost"
	}
	header.Del("Host")
	r := (&http.Request{
		Method: methodString(method), URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: header, Body: http.NoBody, Host: host, RequestURI: uri,
		RemoteAddr: c.remote,
	}).WithContext(c.ctx)
	if len(body) > 0 {
		fb := &frameBody{b: body, frame: frame, l: c.l}
		fb.Reset(body)
		r.Body, r.ContentLength = fb, int64(len(body))
	}
	return r, nil
}

// parseTarget is url.ParseRequestURI for a request target, with a path of
// its own for the targets the API's clients send: an absolute path of
// unreserved characters, sub-delimiters, ':', '@', '/' and well-formed
// escapes, and maybe a query of printable characters. ParseRequestURI
// unescapes such a path and then escapes it again to decide whether to
// keep the original as RawPath, 1.5 % of the CPU of a checkpoint; here
// RawPath is the original whenever it has an escape, which EscapedPath
// then returns, as it would return the default escaping, the same string,
// when the two agree. Any other target goes to ParseRequestURI.
func parseTarget(uri string) (*url.URL, error) {
	path, query, hasQuery := strings.Cut(uri, "?")
	if len(path) == 0 || path[0] != '/' || strings.HasPrefix(path, "//") || (hasQuery && query == "") {
		return url.ParseRequestURI(uri)
	}
	escapes := 0
	for i := 0; i < len(path); i++ {
		switch c := path[i]; {
		case c == '%':
			if i+2 >= len(path) || !isHex(path[i+1]) || !isHex(path[i+2]) {
				return url.ParseRequestURI(uri)
			}
			escapes++
			i += 2
		case !pathBytes[c]:
			return url.ParseRequestURI(uri)
		}
	}
	for i := 0; i < len(query); i++ {
		if c := query[i]; c <= ' ' || c >= 0x7f || c == '#' {
			return url.ParseRequestURI(uri)
		}
	}
	u := &url.URL{Path: path, RawQuery: query}
	if escapes > 0 {
		b := make([]byte, 0, len(path)-2*escapes)
		for i := 0; i < len(path); i++ {
			if path[i] == '%' {
				b = append(b, unhex(path[i+1])<<4|unhex(path[i+2]))
				i += 2
				continue
			}
			b = append(b, path[i])
		}
		u.Path, u.RawPath = string(b), path
	}
	return u, nil
}

// pathBytes are the bytes a path may have unescaped (RFC 3986 pchar and
// '/', less '%'), the ones parseTarget takes itself.
var pathBytes = func() (set [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/") {
		set[c] = true
	}
	return set
}()

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// frameBody is a request's body, read from its frame. Bytes hands the
// handler the bytes themselves, which the API layer then uses instead of
// copying them: the frame belongs to the request alone until the handler
// calls Release, and is reused only after that.
type frameBody struct {
	bytes.Reader
	b []byte
	// frame is the memory b is in, which Release gives back to l.
	frame []byte
	l     *Listener
}

// Close does nothing: the body is in memory.
func (f *frameBody) Close() error { return nil }

// Bytes returns the whole body, however much of it has been read.
func (f *frameBody) Bytes() []byte { return f.b }

// Release gives the body's memory back to the listener, for a later
// request to be read into. A handler that has taken everything it needs
// out of the body (copies, not slices of it) may call it; the body is
// empty after, and bytes Bytes returned must not be used any more.
func (f *frameBody) Release() {
	if f.l == nil {
		return
	}
	f.l.frames.put(f.frame)
	f.b, f.frame, f.l = nil, nil, nil
	f.Reset(nil)
}

// methodString returns the method as a string, without allocating one for
// the methods the API uses.
func methodString(m []byte) string {
	switch string(m) { // compared without a conversion
	case http.MethodGet:
		return http.MethodGet
	case http.MethodPost:
		return http.MethodPost
	case http.MethodPut:
		return http.MethodPut
	case http.MethodDelete:
		return http.MethodDelete
	}
	return string(m)
}

// splitHeader checks the header lines up to the empty line, as parseHeader
// would, and returns them, the empty line included, and what follows.
func splitHeader(p []byte) (header, rest []byte, err error) {
	for q := p; ; {
		line, after, ok := bytes.Cut(q, []byte{'\n'})
		if !ok {
			return nil, nil, errors.New("mux: header without its empty line")
		}
		if len(line) == 0 {
			return p[:len(p)-len(after)], after, nil
		}
		if k, _, ok := bytes.Cut(line, []byte{':'}); !ok || len(k) == 0 {
			return nil, nil, fmt.Errorf("mux: malformed header line %q", line)
		}
		q = after
	}
}

// parseHeader reads header lines up to the empty line and returns them and
// what follows.
func parseHeader(p []byte) (http.Header, []byte, error) {
	header, rest, err := splitHeader(p)
	if err != nil {
		return nil, nil, err
	}
	h := http.Header{}
	for k, v := range headerFields(header) {
		key := textproto.CanonicalMIMEHeaderKey(string(k))
		h[key] = append(h[key], string(v))
	}
	return h, rest, nil
}

// headerFields yields the key and value of each line of header, lines
// splitHeader has checked, trimmed of spaces.
func headerFields(header []byte) iter.Seq2[[]byte, []byte] {
	return func(yield func(k, v []byte) bool) {
		for p := header; len(p) > 0; {
			line, rest, _ := bytes.Cut(p, []byte{'\n'})
			if len(line) == 0 {
				return
			}
			p = rest
			k, v, _ := bytes.Cut(line, []byte{':'})
			if !yield(bytes.TrimSpace(k), bytes.TrimSpace(v)) {
				return
			}
		}
	}
}

// handle runs one request and queues its answer.
func (c *conn) handle(id uint32, r *http.Request) {
	defer c.reqs.Done()
	w := c.l.newResponseWriter()
	func() {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					return
				}
				c.l.log.Error("panic serving a multiplexed request", "method", r.Method, "target", r.RequestURI, "panic", v)
				w = &responseWriter{header: http.Header{}, status: http.StatusInternalServerError}
			}
		}()
		c.l.handler.ServeHTTP(w, r)
	}()
	c.out <- outFrame{id, w}
}

// outFrame is an answer queued for the writer.
type outFrame struct {
	id uint32
	w  *responseWriter
}

// write writes the answer into bw and gives its responseWriter back to l:
// once the bytes are in bw (or written past it), nothing reads it again.
func (f outFrame) write(l *Listener, bw *bufio.Writer) error {
	status := f.w.status
	if status == 0 {
		status = http.StatusOK
	}
	err := writeFrame(bw, f.id, frameHead{status: status}, f.w.header, f.w.body.Bytes())
	l.recycle(f.w)
	return err
}

// writeLoop writes the answers, as many as are queued in one write.
func (c *conn) writeLoop(done chan<- struct{}) {
	defer close(done)
	bw := bufio.NewWriterSize(c.c, 64<<10)
	broken := false
	for f := range c.out {
		if broken {
			continue // drain, so that handlers never block
		}
		err := f.write(c.l, bw)
	more:
		for err == nil {
			select {
			case g, ok := <-c.out:
				if !ok {
					break more
				}
				err = g.write(c.l, bw)
			default:
				break more
			}
		}
		if err == nil {
			err = bw.Flush()
		}
		if err != nil {
			broken = true
			c.c.Close() // the reader fails too; the client sees the close
		}
	}
}

// responseWriter records an answer.
type responseWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

// newResponseWriter returns an empty responseWriter, one a previous answer
// used when there is one: its header map and body buffer keep their
// memory, which would otherwise be allocated again for every request (the
// map's first entry alone allocates its whole table).
func (l *Listener) newResponseWriter() *responseWriter {
	if w, ok := l.writers.Get().(*responseWriter); ok {
		return w
	}
	return &responseWriter{header: http.Header{}}
}

// maxKept bounds the memory kept for reuse, a frame or an answer's body
// buffer: a rare large one (a listing, a function's code) should not stay
// allocated for every later small one.
const maxKept = 64 << 10

// framePool keeps frames' memory for later frames to be read into.
type framePool struct{ p sync.Pool }

// get returns memory a frame was read into before, or nil.
func (fp *framePool) get() []byte {
	if f, ok := fp.p.Get().(*[]byte); ok {
		return *f
	}
	return nil
}

// put keeps frame's memory, unless it is larger than maxKept.
func (fp *framePool) put(frame []byte) {
	if cap(frame) <= maxKept {
		f := frame[:0]
		fp.p.Put(&f)
	}
}

// recycle empties w and keeps it for a later request. A handler may not
// use its ResponseWriter after it returns (net/http's rule too), and the
// writer has copied the answer, so nothing else holds w.
func (l *Listener) recycle(w *responseWriter) {
	if w.body.Cap() > maxKept {
		w.body = bytes.Buffer{}
	}
	w.body.Reset()
	clear(w.header)
	w.status = 0
	l.writers.Put(w)
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

// BodyBuffer returns an empty slice with room for at least n bytes where
// the answer's body continues, for a handler to append its body to and
// then Write: the bytes are then encoded where they are sent from, not
// copied there from a buffer of the handler's own.
func (w *responseWriter) BodyBuffer(n int) []byte {
	w.body.Grow(n)
	return w.body.AvailableBuffer()
}

// Flush is a no-op: the answer goes out whole when the handler returns.
func (w *responseWriter) Flush() {}

// frameHead is a frame's first line: a request line (method and target)
// or, when method is empty, an answer's status.
type frameHead struct {
	method, target string
	status         int
}

// writeFrame writes a frame into bw: its length, id, first line, the
// header lines, the empty line and the body. The length is counted first
// so that the frame goes into the writer's buffer without being assembled
// anywhere else.
func writeFrame(bw *bufio.Writer, id uint32, head frameHead, header http.Header, body []byte) error {
	first := len(head.method) + 1 + len(head.target)
	if head.method == "" {
		var d [20]byte
		first = len(strconv.AppendInt(d[:0], int64(head.status), 10))
	}
	n := 4 + first + 1 + 1 + len(body)
	for k, vs := range header {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 1
		}
	}
	// The length, id and first line go straight into the writer's buffer
	// (AvailableBuffer: nothing is allocated unless it is nearly full).
	b := bw.AvailableBuffer()
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	b = binary.BigEndian.AppendUint32(b, id)
	if head.method == "" {
		b = strconv.AppendInt(b, int64(head.status), 10)
	} else {
		b = append(b, head.method...)
		b = append(b, ' ')
		b = append(b, head.target...)
	}
	b = append(b, '\n')
	bw.Write(b)
	for k, vs := range header {
		for _, v := range vs {
			bw.WriteString(k)
			bw.WriteString(": ")
			writeHeaderValue(bw, v)
			bw.WriteByte('\n')
		}
	}
	bw.WriteByte('\n')
	// A bufio.Writer keeps its first error and returns it from every later
	// call, so the last write's error is the frame's.
	_, err := bw.Write(body)
	return err
}

// writeHeaderValue writes v with each CR and LF byte turned into a space,
// so that it stays on its line and takes len(v) bytes.
func writeHeaderValue(bw *bufio.Writer, v string) {
	for {
		i := strings.IndexAny(v, "\r\n")
		if i < 0 {
			bw.WriteString(v)
			return
		}
		bw.WriteString(v[:i])
		bw.WriteByte(' ')
		v = v[i+1:]
	}
}
