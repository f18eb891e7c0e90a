package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// leanTransport is the load generator's HTTP/1.1 client transport: each
// request is written and its response read on the calling goroutine, over
// a pool of kept-alive connections to one server. net/http's Transport
// hands every request to a write goroutine and every response to a read
// goroutine per connection, which in a 200-concurrent run on two cores
// cost the load generator a fifth of its CPU in goroutine switches and
// channel operations; the load generator's CPU is taken from the server
// it measures.
//
// It speaks only what the load generator sends: requests with a body of
// known length (or none) and responses that net/http's ReadResponse reads.
type leanTransport struct {
	host    string // Host header, and the dial address unless socket is set
	socket  string // a Unix socket to dial instead of host
	maxIdle int
	dialer  net.Dialer

	mu   sync.Mutex
	idle []*leanConn
}

type leanConn struct {
	c  net.Conn
	br *bufio.Reader
	bw *bufio.Writer
}

func newLeanTransport(host string, maxIdle int) *leanTransport {
	return &leanTransport{host: host, maxIdle: maxIdle}
}

// RoundTrip implements http.RoundTripper.
func (t *leanTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" || req.URL.Host != t.host {
		return nil, fmt.Errorf("lean transport: %s://%s is not the server %s", req.URL.Scheme, req.URL.Host, t.host)
	}
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("lean transport: read request body: %w", err)
		}
		body = b
	}
	for attempt := 0; ; attempt++ {
		lc, reused, err := t.get(req.Context())
		if err != nil {
			return nil, err
		}
		// A cancelled request unblocks its reads and writes by a deadline
		// in the past; the connection is then closed, not reused.
		stop := context.AfterFunc(req.Context(), func() { lc.c.SetDeadline(time.Unix(1, 0)) })
		resp, err := lc.roundTrip(t.host, req, body)
		if err == nil {
			resp.Body = &leanBody{ReadCloser: resp.Body, t: t, lc: lc, reuse: !resp.Close, stop: stop}
			return resp, nil
		}
		stop()
		lc.c.Close()
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return nil, fmt.Errorf("lean transport: %s %s: %w", req.Method, req.URL.Path, ctxErr)
		}
		// A kept-alive connection the server closed while it sat idle
		// fails before anything was answered; the request never
		// reached the handler, so it goes again on a fresh one.
		if reused && attempt == 0 && staleConn(err) {
			continue
		}
		return nil, fmt.Errorf("lean transport: %s %s: %w", req.Method, req.URL.Path, err)
	}
}

func staleConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func (lc *leanConn) roundTrip(host string, req *http.Request, body []byte) (*http.Response, error) {
	// The path as the caller escaped it: ARNs travel with %2F and %3A.
	target := req.URL.RawPath
	if target == "" {
		target = req.URL.Path
	}
	if q := req.URL.RawQuery; q != "" {
		target += "?" + q
	}
	if err := lc.writeRequest(host, req.Method, target, req.Header, body); err != nil {
		return nil, err
	}
	return http.ReadResponse(lc.br, req)
}

// writeRequest writes and flushes one request; target is the escaped path
// and query.
func (lc *leanConn) writeRequest(host, method, target string, header http.Header, body []byte) error {
	w := lc.bw
	w.WriteString(method)
	w.WriteByte(' ')
	w.WriteString(target)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(host)
	w.WriteString("\r\n")
	for k, vs := range header {
		for _, v := range vs {
			w.WriteString(k)
			w.WriteString(": ")
			w.WriteString(v)
			w.WriteString("\r\n")
		}
	}
	if body != nil || method == http.MethodPost || method == http.MethodPut {
		w.WriteString("Content-Length: ")
		w.WriteString(strconv.Itoa(len(body)))
		w.WriteString("\r\n")
	}
	w.WriteString("\r\n")
	w.Write(body)
	return w.Flush()
}

// get returns an idle connection, or dials one; reused says which.
func (t *leanTransport) get(ctx context.Context) (*leanConn, bool, error) {
	t.mu.Lock()
	if n := len(t.idle); n > 0 {
		lc := t.idle[n-1]
		t.idle = t.idle[:n-1]
		t.mu.Unlock()
		return lc, true, nil
	}
	t.mu.Unlock()
	network, addr := "tcp", t.host
	if t.socket != "" {
		network, addr = "unix", t.socket
	}
	c, err := t.dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, false, fmt.Errorf("lean transport: dial %s: %w", addr, err)
	}
	return &leanConn{c: c, br: bufio.NewReaderSize(c, 16<<10), bw: bufio.NewWriterSize(c, 16<<10)}, false, nil
}

func (t *leanTransport) put(lc *leanConn) {
	t.mu.Lock()
	if len(t.idle) < t.maxIdle {
		t.idle = append(t.idle, lc)
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	lc.c.Close()
}

// CloseIdleConnections closes the pooled connections (http.Client calls
// it through an interface check).
func (t *leanTransport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = nil
	t.mu.Unlock()
	for _, lc := range idle {
		lc.c.Close()
	}
}

// leanBody returns its connection to the pool once the response body has
// been read to its end, and closes it if the body is abandoned half-read.
type leanBody struct {
	io.ReadCloser
	t     *leanTransport
	lc    *leanConn
	reuse bool
	done  bool
	stop  func() bool // ends the request's cancellation hook
}

func (b *leanBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.finish(true)
	}
	return n, err
}

func (b *leanBody) Close() error {
	if !b.done {
		// Drain a short remainder so the connection can be reused.
		_, err := io.CopyN(io.Discard, b.ReadCloser, 64<<10)
		b.finish(err == io.EOF)
	}
	return nil
}

func (b *leanBody) finish(complete bool) {
	if b.done {
		return
	}
	b.done = true
	if !b.stop() {
		// The request was cancelled: the deadline may have been set.
		complete = false
	}
	if complete && b.reuse && b.lc.br.Buffered() == 0 {
		b.t.put(b.lc)
		return
	}
	b.lc.c.Close()
}

// leanReply is what the load generator reads of a response: its status,
// the header that says a synchronous Invoke's function failed, and the
// body.
type leanReply struct {
	status        int
	functionError string // X-Amz-Function-Error
	body          []byte
}

// exchange sends one request (target is the escaped path and query) and
// reads its whole response on the calling goroutine, without building an
// http.Request or parsing the response into an http.Response: the load
// generator's own calls take this path, which costs a fraction of
// http.Client.Do and http.ReadResponse (their header maps, URL parsing and
// body wrappers were a quarter of the load generator's CPU). The AWS SDK's
// requests still go through RoundTrip.
func (t *leanTransport) exchange(ctx context.Context, method, target string, header http.Header, body []byte) (leanReply, error) {
	for attempt := 0; ; attempt++ {
		lc, reused, err := t.get(ctx)
		if err != nil {
			return leanReply{}, err
		}
		stop := context.AfterFunc(ctx, func() { lc.c.SetDeadline(time.Unix(1, 0)) })
		reply, keep, err := lc.exchange(t.host, method, target, header, body)
		if !stop() {
			keep = false // cancelled: the deadline may have been set
		}
		if err == nil {
			if keep && lc.br.Buffered() == 0 {
				t.put(lc)
			} else {
				lc.c.Close()
			}
			return reply, nil
		}
		lc.c.Close()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return leanReply{}, fmt.Errorf("lean transport: %s %s: %w", method, target, ctxErr)
		}
		// As in RoundTrip: a stale kept-alive connection fails before the
		// request reached a handler, so it goes again on a fresh one.
		if reused && attempt == 0 && staleConn(err) {
			continue
		}
		return leanReply{}, fmt.Errorf("lean transport: %s %s: %w", method, target, err)
	}
}

// exchange writes one request and reads its response; keep reports
// whether the connection may carry another.
func (lc *leanConn) exchange(host, method, target string, header http.Header, body []byte) (reply leanReply, keep bool, err error) {
	if err := lc.writeRequest(host, method, target, header, body); err != nil {
		return reply, false, err
	}

	line, err := lc.line()
	if err != nil {
		return reply, false, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return reply, false, fmt.Errorf("malformed status line %q", line)
	}
	if reply.status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return reply, false, fmt.Errorf("malformed status line %q", line)
	}
	keep = line[7] == '1'
	length, chunked := -1, false
	for {
		line, err := lc.line()
		if err != nil {
			return reply, false, err
		}
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return reply, false, fmt.Errorf("malformed header line %q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return reply, false, fmt.Errorf("malformed Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(value, []byte("close")) {
				keep = false
			}
		case bytes.EqualFold(name, []byte("X-Amz-Function-Error")):
			reply.functionError = string(value)
		}
	}
	switch {
	case method == http.MethodHead || reply.status == http.StatusNoContent || reply.status == http.StatusNotModified:
	case chunked:
		reply.body, err = io.ReadAll(httputil.NewChunkedReader(lc.br))
		if err == nil {
			// The trailer section ends with an empty line.
			for {
				line, lerr := lc.line()
				if lerr != nil {
					return reply, false, lerr
				}
				if len(line) == 0 {
					break
				}
			}
		}
	case length >= 0:
		reply.body = make([]byte, length)
		_, err = io.ReadFull(lc.br, reply.body)
	default: // delimited by the end of the connection
		reply.body, err = io.ReadAll(lc.br)
		keep = false
	}
	return reply, keep && err == nil, err
}

// line reads one CRLF-terminated line of a response head, without the CRLF.
// The slice is only valid until the next read.
func (lc *leanConn) line() ([]byte, error) {
	line, err := lc.br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, errors.New("response header line too long")
		}
		return nil, err
	}
	return bytes.TrimRight(line, "\r\n"), nil
}
