package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestStartFailureReleasesWhatItStarted makes Start fail after it has
// opened the store (its address is taken) and checks that the store's
// goroutines (committer, WAL checkpointer, page-cache prefetch) are gone,
// then that a server starts on the same data directory.
func TestStartFailureReleasesWhatItStarted(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := t.TempDir()
	cfg := Config{DataDir: dir, Listen: taken.Addr().String(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}

	before := runtime.NumGoroutine()
	if _, err := Start(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "listen on") {
		t.Fatalf("Start on a taken address: %v, want a listen error", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after the failed Start, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}

	cfg.Listen = "127.0.0.1:0"
	s, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start after the failed one: %v", err)
	}
	shutdown(t, s)
}

// shutdown stops s, failing tb if it does not stop cleanly.
func shutdown(tb testing.TB, s *Server) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		tb.Errorf("Shutdown: %v", err)
	}
}

// TestUnixSocket: the server replaces a socket file a dead server left
// behind, leaves a live server's socket alone, answers on it, and removes
// it when it shuts down.
func TestUnixSocket(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, SocketName)
	if err := os.WriteFile(path, nil, 0o600); err != nil { // what a kill -9 leaves is a file nobody listens on
		t.Fatal(err)
	}
	cfg := Config{DataDir: dir, Listen: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	first, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if got := first.SocketPath(); got != path {
		t.Fatalf("SocketPath = %q, want %q", got, path)
	}
	// Whatever the umask, only this user may connect.
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 || fi.Mode().Type() != os.ModeSocket {
		t.Errorf("socket %v (%v), want a socket with mode 0600", fi.Mode(), err)
	}
	health := func() error {
		c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}}}
		defer c.CloseIdleConnections()
		resp, err := c.Get("http://duro/health")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /health: %s", resp.Status)
		}
		return nil
	}
	if err := health(); err != nil {
		t.Fatalf("over the socket: %v", err)
	}

	second, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start of a second server: %v", err)
	}
	if got := second.SocketPath(); got != "" {
		t.Errorf("second server's SocketPath = %q, want none (the first one's is live)", got)
	}
	shutdown(t, second)
	if err := health(); err != nil {
		t.Fatalf("the first server's socket after the second one stopped: %v", err)
	}

	shutdown(t, first)
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket file after Shutdown: %v, want it removed", err)
	}
}

// TestNoUnixSocketForALongPath: a data directory whose socket path would
// not fit in a socket address gets none, and the server runs over TCP.
func TestNoUnixSocketForALongPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", maxSocketPath))
	s, err := Start(context.Background(), Config{DataDir: dir, Listen: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer shutdown(t, s)
	if got := s.SocketPath(); got != "" {
		t.Fatalf("SocketPath = %q, want none", got)
	}
	resp, err := http.Get(s.URL() + "/health")
	if err != nil {
		t.Fatalf("GET /health over TCP: %v", err)
	}
	resp.Body.Close()
}

// BenchmarkRoundTrip measures one kept-alive request and its answer
// (GET /health: the middleware, no store) over loopback TCP and over the
// Unix socket, with 25 connections per CPU as with many workers' requests
// in flight; ns/op is the machine's time per round trip, both ends and the
// kernel included.
func BenchmarkRoundTrip(b *testing.B) {
	s, err := Start(context.Background(), Config{DataDir: b.TempDir(), Listen: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatalf("Start: %v", err)
	}
	defer shutdown(b, s)
	req := []byte("GET /health HTTP/1.1\r\nHost: " + s.Addr() + "\r\nUser-Agent: bench\r\n\r\n")
	for _, tc := range []struct{ network, addr string }{{"tcp", s.Addr()}, {"unix", s.SocketPath()}} {
		b.Run(tc.network, func(b *testing.B) {
			b.SetParallelism(25)
			b.RunParallel(func(pb *testing.PB) {
				c, err := net.Dial(tc.network, tc.addr)
				if err != nil {
					b.Error(err)
					return
				}
				defer c.Close()
				br := bufio.NewReader(c)
				for pb.Next() {
					if _, err := c.Write(req); err != nil {
						b.Error(err)
						return
					}
					resp, err := http.ReadResponse(br, nil)
					if err != nil {
						b.Error(err)
						return
					}
					if _, err := io.Copy(io.Discard, resp.Body); err != nil {
						b.Error(err)
						return
					}
					resp.Body.Close()
				}
			})
		})
	}
}
