package bench

import (
	"context"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/mux"
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

// leanSend sends one request through the lean transport and returns the
// response body.
type leanSend func(ctx context.Context, method, target string, header http.Header, body string) (string, error)

// leanSenders are the transport's two ways in: an http.Client through
// RoundTrip (the AWS SDK's requests) and exchange (the load generator's).
func leanSenders(srv *httptest.Server, c *http.Client) []struct {
	name string
	send leanSend
} {
	return []struct {
		name string
		send leanSend
	}{
		{"RoundTrip", func(ctx context.Context, method, target string, header http.Header, body string) (string, error) {
			var rd io.Reader
			if body != "" {
				rd = strings.NewReader(body)
			}
			req, err := http.NewRequestWithContext(ctx, method, srv.URL+target, rd)
			if err != nil {
				return "", err
			}
			maps.Copy(req.Header, header)
			resp, err := c.Do(req)
			if err != nil {
				return "", err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			return string(b), err
		}},
		{"exchange", func(ctx context.Context, method, target string, header http.Header, body string) (string, error) {
			var b []byte
			if body != "" {
				b = []byte(body)
			}
			r, err := c.Transport.(*leanTransport).exchange(ctx, method, target, header, b)
			return string(r.body), err
		}},
	}
}

func TestLeanTransportSpeaksHTTP(t *testing.T) {
	srv, c, conns := leanServer(t, echo)
	h := http.Header{"X-Test": {"h"}}
	for _, s := range leanSenders(srv, c) {
		for _, tc := range []struct{ method, target, body, want string }{
			// The ARN's escaping must reach the server as sent.
			{"POST", "/2025-12-01/durable-executions/arn%3Aaws%3Alambda%3Ax%2Fy/checkpoint", `{"a":1}`,
				`POST /2025-12-01/durable-executions/arn%3Aaws%3Alambda%3Ax%2Fy/checkpoint? h {"a":1}`},
			{"GET", "/state?Marker=3&MaxItems=10", "", "GET /state?Marker=3&MaxItems=10 h "},
			{"POST", "/empty", "", "POST /empty? h "},
		} {
			got, err := s.send(context.Background(), tc.method, tc.target, h, tc.body)
			if err != nil || got != tc.want {
				t.Errorf("%s: %s %s: server saw %q (%v), want %q", s.name, tc.method, tc.target, got, err, tc.want)
			}
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for sequential requests, want 1 kept alive", n)
	}
}

func TestLeanTransportRetriesAConnectionTheServerClosed(t *testing.T) {
	srv, c, conns := leanServer(t, echo)
	for _, s := range leanSenders(srv, c) {
		if _, err := s.send(context.Background(), "POST", "/x", nil, "b"); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		before := conns.Load()
		// The server drops its idle keep-alive connection; the pooled one
		// is now stale, and the next request must go out on a fresh one.
		srv.CloseClientConnections()
		time.Sleep(50 * time.Millisecond)
		if got, err := s.send(context.Background(), "POST", "/x", nil, "b"); err != nil || got != "POST /x?  b" {
			t.Fatalf("%s: after the server closed the connection: %q, %v", s.name, got, err)
		}
		if n := conns.Load(); n != before+1 {
			t.Errorf("%s: %d connections after %d, want one more (a new one after the stale one)", s.name, n, before)
		}
	}
}

func TestLeanTransportCancel(t *testing.T) {
	release := make(chan struct{})
	srv, c, _ := leanServer(t, func(w http.ResponseWriter, r *http.Request) { <-release })
	defer close(release)
	for _, s := range leanSenders(srv, c) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := s.send(ctx, "POST", "/slow", nil, "b")
			done <- err
		}()
		time.Sleep(50 * time.Millisecond)
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("%s: cancelled request: %v, want context.Canceled", s.name, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: a cancelled request still waits for the server's answer", s.name)
		}
	}
}

// TestWireClientOverSocket checks that overSocket's client reaches the
// server through its Unix socket and the original one through TCP.
func TestWireClientOverSocket(t *testing.T) {
	network := func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `"`+r.Context().Value(http.LocalAddrContextKey).(net.Addr).Network()+`"`)
	}
	srv := httptest.NewServer(http.HandlerFunc(network))
	defer srv.Close()
	sock := filepath.Join(t.TempDir(), "api.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	onSocket := &http.Server{Handler: http.HandlerFunc(network)}
	go onSocket.Serve(ln)
	defer onSocket.Close()

	c := newWireClient(srv.URL, 4, &measurements{})
	defer c.close()
	fc := c.overSocket(sock, 4)
	defer fc.close()
	for _, tc := range []struct {
		c    *wireClient
		want string
	}{{c, "tcp"}, {fc, "unix"}, {c, "tcp"}} {
		var got string
		if _, err := tc.c.do(context.Background(), http.MethodGet, "/", nil, nil, &got); err != nil || got != tc.want {
			t.Errorf("request reached the server over %q (%v), want %q", got, err, tc.want)
		}
	}
	// A client without the lean transport (https) gets no socket client:
	// functionClient refuses, for the socket transports only.
	https := newWireClient("https://127.0.0.1:1", 1, &measurements{})
	for _, want := range []string{TransportUnixHTTP, TransportMux} {
		if fc, _, err := functionClient(context.Background(), https, sock, want, 1); err == nil || fc != nil {
			t.Errorf("functionClient(https, %s) = %v, %v; want an error", want, fc, err)
		}
	}
	if fc, transport, err := functionClient(context.Background(), https, sock, "", 1); err != nil || fc != https || transport != TransportTCP {
		t.Errorf("functionClient(https, default) = %v, %q, %v; want the client itself over tcp", fc, transport, err)
	}
}

// TestWireClientOverMux checks that overMux's client speaks the socket's
// multiplexed protocol, which a mux.Listener serves.
func TestWireClientOverMux(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "api.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	l := mux.Split(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, `"`+strings.SplitN(r.RemoteAddr, "@", 2)[0]+" "+r.Method+" "+r.RequestURI+" "+string(b)+`"`)
	}), nil)
	defer l.Shutdown(context.Background())

	c := newWireClient("http://127.0.0.1:1", 4, &measurements{})
	fc, err := c.overMux(context.Background(), sock)
	if err != nil {
		t.Fatal(err)
	}
	defer fc.close()
	var got string
	if _, err := fc.do(context.Background(), http.MethodPost, "/a%2Fb/checkpoint", nil, []byte("x"), &got); err != nil || got != "mux POST /a%2Fb/checkpoint x" {
		t.Errorf("over the multiplexed socket the server saw %q (%v)", got, err)
	}
	if n := fc.m.checkpoints.Load(); n != 1 {
		t.Errorf("%d checkpoints timed, want 1", n)
	}
}
