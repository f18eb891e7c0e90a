package server

import (
	"context"
	"io"
	"log/slog"
	"net"
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
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}
