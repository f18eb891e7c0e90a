package mux

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Client sends requests over one multiplexed connection; it is safe for
// concurrent use. Requests sent together while another is being written
// go out in one write.
type Client struct {
	c net.Conn

	queued atomic.Int32 // requests waiting to write; the last one flushes
	wmu    sync.Mutex
	bw     *bufio.Writer

	mu      sync.Mutex
	next    uint32
	pending map[uint32]chan answer
	err     error // why the connection ended; set once
	done    chan struct{}

	// frames keeps released answers' memory for the next answers to be
	// read into.
	frames framePool
}

// Response is an answer.
type Response struct {
	Status int
	Body   []byte
	// header is the answer's header lines, checked but not parsed: most
	// callers want one value or none, and a map costs several hundred
	// bytes per answer.
	header []byte
	// frame is the memory Body and header are in, and c the client that
	// takes it back on Release.
	frame []byte
	c     *Client
}

// Release gives the answer's memory back to its client, for a later
// answer to be read into. A caller that is done with the answer may call
// it (again, it does nothing); the Response, its Body and anything sliced
// from them must not be used after.
func (r *Response) Release() {
	if r.c == nil {
		return
	}
	r.c.frames.put(r.frame)
	*r = Response{}
}

// Header returns the answer's header.
func (r *Response) Header() http.Header {
	h, _, _ := parseHeader(r.header) // checked by parseAnswer: cannot fail
	return h
}

// HeaderValue returns the first value of the header key, as
// Header().Get(key) does, without building the header.
func (r *Response) HeaderValue(key string) string {
	for k, v := range headerFields(r.header) {
		if sameHeaderKey(string(k), key) {
			return string(v)
		}
	}
	return ""
}

// sameHeaderKey reports whether keys a and b canonicalize alike
// (textproto.CanonicalMIMEHeaderKey), without allocating for the usual
// keys: a key of token characters canonicalizes by its letters' case only,
// any other is left as it is.
func sameHeaderKey(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	if isToken(a) && isToken(b) {
		return strings.EqualFold(a, b)
	}
	return textproto.CanonicalMIMEHeaderKey(a) == textproto.CanonicalMIMEHeaderKey(b)
}

// isToken reports whether s is made of the characters CanonicalMIMEHeaderKey
// canonicalizes (letters, digits and the other token characters of RFC 7230).
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || c <= ' ' || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 || c == 0x7f {
			return false
		}
	}
	return s != ""
}

type answer struct {
	r   *Response
	err error
}

// ErrClosed is the error of requests on a client that was closed.
var ErrClosed = errors.New("mux: client closed")

// Dial connects to a server that speaks the protocol (a Listener).
func Dial(ctx context.Context, network, addr string) (*Client, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return newClient(nc)
}

// newClient speaks the protocol on nc, which it owns from then on.
func newClient(nc net.Conn) (*Client, error) {
	c := &Client{c: nc, bw: bufio.NewWriterSize(nc, 64<<10), pending: map[uint32]chan answer{}, done: make(chan struct{})}
	if _, err := io.WriteString(c.bw, Preface); err != nil {
		nc.Close()
		return nil, err
	}
	go c.readLoop()
	return c, nil
}

// Do sends a request (target: path and query, escaped) and waits for its
// answer or ctx.
func (c *Client) Do(ctx context.Context, method, target string, header http.Header, body []byte) (*Response, error) {
	ch := make(chan answer, 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, err
	}
	c.next++
	id := c.next
	c.pending[id] = ch
	c.mu.Unlock()

	c.queued.Add(1)
	c.wmu.Lock()
	err := writeFrame(c.bw, id, frameHead{method: method, target: target}, header, body)
	if c.queued.Add(-1) == 0 && err == nil {
		err = c.bw.Flush()
	}
	c.wmu.Unlock()
	if err != nil {
		c.fail(fmt.Errorf("mux: write: %w", err))
	}

	select {
	case a := <-ch:
		return a.r, a.err
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
		return nil, ctx.Err()
	}
}

// Close closes the connection; waiting requests fail with ErrClosed.
func (c *Client) Close() error {
	c.fail(ErrClosed)
	<-c.done
	return nil
}

// fail ends the connection once and fails every waiting request.
func (c *Client) fail(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	c.c.Close()
	for _, ch := range pending {
		ch <- answer{err: err}
	}
}

func (c *Client) readLoop() {
	defer close(c.done)
	br := bufio.NewReaderSize(c.c, 64<<10)
	for {
		id, frame, payload, err := readFrame(br, nil, 0, c.frames.get()) // the server's answers: no stall guard
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF // the server went away
			}
			c.fail(fmt.Errorf("mux: read: %w", err))
			return
		}
		r, err := parseAnswer(payload)
		if err != nil {
			c.fail(err)
			return
		}
		r.frame, r.c = frame, c
		c.mu.Lock()
		ch, ok := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if ok {
			ch <- answer{r: r}
		}
	}
}

// parseAnswer parses an answer's payload.
func parseAnswer(p []byte) (*Response, error) {
	line, rest, ok := bytes.Cut(p, []byte{'\n'})
	if !ok {
		return nil, errors.New("mux: answer without a status line")
	}
	status, err := strconv.Atoi(string(line))
	if err != nil || status < 100 || status > 999 {
		return nil, fmt.Errorf("mux: malformed status %q", line)
	}
	header, body, err := splitHeader(rest)
	if err != nil {
		return nil, err
	}
	return &Response{Status: status, header: header, Body: body}, nil
}
