package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/store"
	"github.com/duro-run/duro/internal/store/sqlite"
)

// A negative log retention is refused before the server starts.
func TestServeLogRetentionFlag(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"serve", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0", "--log-retention-days", "-1"}, &stdout, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "--log-retention-days must be 0") {
		t.Errorf("exit %d, stderr %q; want a usage error about --log-retention-days", code, stderr.String())
	}
}

// `duro serve --log-retention-days N` prunes the log lines of plain
// invocations older than N days when it starts; without it, those older
// than the default execution retention (14 days). Read through the logs
// route.
func TestServeLogRetentionDays(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		flags     []string
		fiveDayOK bool // the 5-day-old line survives
	}{
		{[]string{"--log-retention-days", "1"}, false},
		{nil, true},
	} {
		t.Run(fmt.Sprint(tc.flags), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			st, err := sqlite.Open(context.Background(), filepath.Join(dir, "duro.db"))
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC()
			rows := []store.LogRow{
				{Time: now.Add(-20 * 24 * time.Hour), FunctionName: "old-fn", FunctionVersion: "$LATEST", Stream: "stdout", Message: "twenty days old"},
				{Time: now.Add(-5 * 24 * time.Hour), FunctionName: "old-fn", FunctionVersion: "$LATEST", Stream: "stdout", Message: "five days old"},
			}
			if err := st.AppendLogs(context.Background(), rows); err != nil {
				t.Fatal(err)
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}

			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			ln.Close()
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan int, 1)
			var stdout, stderr syncBuffer
			go func() {
				done <- run(ctx, append([]string{"serve", "--data-dir", dir, "--listen", addr, "--log-level", "error"}, tc.flags...), &stdout, &stderr)
			}()
			defer func() {
				cancel()
				select {
				case <-done:
				case <-time.After(cliTimeout):
					t.Error("duro serve did not stop")
				}
			}()

			// The prune runs at start: wait for the 20-day-old line to go.
			var messages []string
			for deadline := time.Now().Add(cliTimeout); ; {
				messages = serveLogMessages(t, addr)
				if messages != nil && !slices.Contains(messages, "twenty days old") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the 20-day-old line is still there: %q\n%s", messages, stderr.String())
				}
				time.Sleep(50 * time.Millisecond)
			}
			if got := slices.Contains(messages, "five days old"); got != tc.fiveDayOK {
				t.Errorf("5-day-old line kept = %v, want %v (lines %q)", got, tc.fiveDayOK, messages)
			}
		})
	}
}

// serveLogMessages reads old-fn's lines through GET /duro/v1/logs; nil
// while the server does not answer yet.
func serveLogMessages(t *testing.T, addr string) []string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/duro/v1/logs?functionName=old-fn")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /duro/v1/logs: %s", resp.Status)
	}
	var body struct{ Logs []struct{ Message string } }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, l := range body.Logs {
		out = append(out, l.Message)
	}
	return out
}

// onlyEnv is a getenv with one variable set.
func onlyEnv(key, value string) func(string) string {
	return func(k string) string {
		if k == key {
			return value
		}
		return ""
	}
}

// TestGCPercent checks that Duro raises the GC target only when GOGC does
// not choose one.
func TestGCPercent(t *testing.T) {
	for _, tc := range []struct {
		gogc string
		want int
		set  bool
	}{
		{"", defaultGCPercent, true},
		{"100", 0, false},
		{"off", 0, false},
	} {
		got, set := gcPercent(onlyEnv("GOGC", tc.gogc))
		if got != tc.want || set != tc.set {
			t.Errorf("GOGC=%q: gcPercent() = %d, %v; want %d, %v", tc.gogc, got, set, tc.want, tc.set)
		}
	}
}

// TestGODEBUGStackSetting checks that Duro adds gcshrinkstackoff=1 to
// GODEBUG, keeping the rest, unless GODEBUG already sets it either way.
func TestGODEBUGStackSetting(t *testing.T) {
	for _, tc := range []struct {
		godebug string
		want    string
		reexec  bool
	}{
		{"", "gcshrinkstackoff=1", true},
		{" ", "gcshrinkstackoff=1", true},
		{"madvdontneed=1", "madvdontneed=1,gcshrinkstackoff=1", true},
		{"gctrace=1,gcshrinkstackoff=0", "", false},
		{"gcshrinkstackoff=1", "", false},
		{"madvdontneed=1, gcshrinkstackoff=0", "", false},
	} {
		got, reexec := godebugWithStackSetting(onlyEnv("GODEBUG", tc.godebug))
		if got != tc.want || reexec != tc.reexec {
			t.Errorf("GODEBUG=%q: godebugWithStackSetting() = %q, %v; want %q, %v", tc.godebug, got, reexec, tc.want, tc.reexec)
		}
	}
}
