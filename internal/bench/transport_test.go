package bench

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// leanServer is a real net/http server that echoes the request's method,
// escaped path and body, and counts the connections it accepted.
func leanServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *http.Client, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	tr := newLeanTransport(u.Host, 4)
	t.Cleanup(tr.CloseIdleConnections)
	return srv, &http.Client{Transport: tr}, &conns
}

func echo(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, r.Method+" "+r.URL.EscapedPath()+"?"+r.URL.RawQuery+" "+r.Header.Get("X-Test")+" "+string(b))
}

func leanDo(t *testing.T, c *http.Client, req *http.Request) string {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return string(b)
}

func TestLeanTransportSpeaksHTTP(t *testing.T) {
	srv, c, conns := leanServer(t, echo)
	tests := []struct {
		method, path, body, want string
	}{
		// The ARN's escaping must reach the server as sent.
		{"POST", "/2025-12-01/durable-executions/arn%3Aaws%3Alambda%3Ax%2Fy/checkpoint", `{"a":1}`,
			`POST /2025-12-01/durable-executions/arn%3Aaws%3Alambda%3Ax%2Fy/checkpoint? h {"a":1}`},
		{"GET", "/state?Marker=3&MaxItems=10", "", "GET /state?Marker=3&MaxItems=10 h "},
		{"POST", "/empty", "", "POST /empty? h "},
	}
	for _, tc := range tests {
		var body io.Reader
		if tc.body != "" {
			body = strings.NewReader(tc.body)
		}
		req, err := http.NewRequest(tc.method, srv.URL+tc.path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Test", "h")
		if got := leanDo(t, c, req); got != tc.want {
			t.Errorf("%s %s: server saw %q, want %q", tc.method, tc.path, got, tc.want)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for sequential requests, want 1 kept alive", n)
	}
}

func TestLeanTransportRetriesAConnectionTheServerClosed(t *testing.T) {
	srv, c, conns := leanServer(t, echo)
	req := func() *http.Request {
		r, _ := http.NewRequest("POST", srv.URL+"/x", strings.NewReader("b"))
		return r
	}
	leanDo(t, c, req())
	// The server drops its idle keep-alive connection; the pooled one is
	// now stale, and the next request must go out on a fresh one.
	srv.CloseClientConnections()
	time.Sleep(50 * time.Millisecond)
	if got := leanDo(t, c, req()); got != "POST /x?  b" {
		t.Fatalf("after the server closed the connection: %q", got)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2 (the second after the stale one)", n)
	}
}

func TestLeanTransportCancel(t *testing.T) {
	release := make(chan struct{})
	srv, c, _ := leanServer(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
	})
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/slow", strings.NewReader("b"))
	done := make(chan error, 1)
	go func() {
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled request: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled request still waits for the server's answer")
	}
}

// The load generator's own path (exchange) against the same server.
func TestLeanExchangeSpeaksHTTP(t *testing.T) {
	_, c, conns := leanServer(t, echo)
	tr := c.Transport.(*leanTransport)
	h := http.Header{"X-Test": {"h"}}
	for _, tc := range []struct{ method, target, body, want string }{
		{"POST", "/2025-12-01/durable-executions/arn%3Aaws%3Alambda%3Ax%2Fy/checkpoint", `{"a":1}`,
			`POST /2025-12-01/durable-executions/arn%3Aaws%3Alambda%3Ax%2Fy/checkpoint? h {"a":1}`},
		{"GET", "/state?Marker=3&MaxItems=10", "", "GET /state?Marker=3&MaxItems=10 h "},
		{"POST", "/empty", "", "POST /empty? h "},
	} {
		var body []byte
		if tc.body != "" {
			body = []byte(tc.body)
		}
		r, err := tr.exchange(context.Background(), tc.method, tc.target, h, body)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.method, tc.target, err)
		}
		if r.status != http.StatusOK || string(r.body) != tc.want {
			t.Errorf("%s %s: %d %q, want 200 %q", tc.method, tc.target, r.status, r.body, tc.want)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for sequential requests, want 1 kept alive", n)
	}
}

func TestLeanExchangeResponseFraming(t *testing.T) {
	big := strings.Repeat("0123456789", 5000)
	_, c, conns := leanServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/chunked": // no Content-Length, flushed in pieces: chunked
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			w.WriteHeader(http.StatusTeapot)
			for i := 0; i < len(big); i += 7000 {
				io.WriteString(w, big[i:min(i+7000, len(big))])
				w.(http.Flusher).Flush()
			}
		case "/close":
			w.Header().Set("Connection", "close")
			io.WriteString(w, "bye")
		case "/nocontent":
			w.WriteHeader(http.StatusNoContent)
		}
	})
	tr := c.Transport.(*leanTransport)
	ctx := context.Background()
	r, err := tr.exchange(ctx, "GET", "/chunked", nil, nil)
	if err != nil || r.status != http.StatusTeapot || r.functionError != "Unhandled" || string(r.body) != big {
		t.Fatalf("chunked: %v, status %d, function error %q, %d bytes", err, r.status, r.functionError, len(r.body))
	}
	if r, err := tr.exchange(ctx, "GET", "/nocontent", nil, nil); err != nil || r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("204: %v, %+v", err, r)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections after a chunked answer and a 204, want 1 kept alive", n)
	}
	if r, err := tr.exchange(ctx, "GET", "/close", nil, nil); err != nil || string(r.body) != "bye" {
		t.Fatalf("Connection: close: %v, %+v", err, r)
	}
	if r, err := tr.exchange(ctx, "GET", "/nocontent", nil, nil); err != nil || r.status != http.StatusNoContent {
		t.Fatalf("after Connection: close: %v, %+v", err, r)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2 (a new one after Connection: close)", n)
	}
}

func TestLeanExchangeRetriesAConnectionTheServerClosed(t *testing.T) {
	srv, c, conns := leanServer(t, echo)
	tr := c.Transport.(*leanTransport)
	if _, err := tr.exchange(context.Background(), "POST", "/x", nil, []byte("b")); err != nil {
		t.Fatal(err)
	}
	srv.CloseClientConnections()
	time.Sleep(50 * time.Millisecond)
	r, err := tr.exchange(context.Background(), "POST", "/x", nil, []byte("b"))
	if err != nil || string(r.body) != "POST /x?  b" {
		t.Fatalf("after the server closed the connection: %v, %q", err, r.body)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2 (the second after the stale one)", n)
	}
}

func TestLeanExchangeCancel(t *testing.T) {
	release := make(chan struct{})
	_, c, _ := leanServer(t, func(w http.ResponseWriter, r *http.Request) { <-release })
	defer close(release)
	tr := c.Transport.(*leanTransport)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := tr.exchange(ctx, "POST", "/slow", nil, []byte("b"))
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled request: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled request still waits for the server's answer")
	}
}
