package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
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
	host    string // Host header and dial address
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
	w := lc.bw
	w.WriteString(req.Method)
	w.WriteByte(' ')
	// The path as the caller escaped it: ARNs travel with %2F and %3A.
	if p := req.URL.RawPath; p != "" {
		w.WriteString(p)
	} else {
		w.WriteString(req.URL.Path)
	}
	if q := req.URL.RawQuery; q != "" {
		w.WriteByte('?')
		w.WriteString(q)
	}
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(host)
	w.WriteString("\r\n")
	for k, vs := range req.Header {
		for _, v := range vs {
			w.WriteString(k)
			w.WriteString(": ")
			w.WriteString(v)
			w.WriteString("\r\n")
		}
	}
	if body != nil || req.Method == http.MethodPost || req.Method == http.MethodPut {
		w.WriteString("Content-Length: ")
		w.WriteString(strconv.Itoa(len(body)))
		w.WriteString("\r\n")
	}
	w.WriteString("\r\n")
	w.Write(body)
	if err := w.Flush(); err != nil {
		return nil, err
	}
	return http.ReadResponse(lc.br, req)
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
	c, err := t.dialer.DialContext(ctx, "tcp", t.host)
	if err != nil {
		return nil, false, fmt.Errorf("lean transport: dial %s: %w", t.host, err)
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
