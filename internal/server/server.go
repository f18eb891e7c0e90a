// Package server assembles a running Duro node: the embedded store, the
// engine, the function runtime and the AWS wire API on an HTTP listener.
// Both `duro serve` and the end-to-end tests start Duro through it.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/duro-run/duro/internal/api"
	"github.com/duro-run/duro/internal/console"
	"github.com/duro-run/duro/internal/engine"
	"github.com/duro-run/duro/internal/mux"
	"github.com/duro-run/duro/internal/runtime"
	"github.com/duro-run/duro/internal/store/sqlite"
)

// Config configures a server.
type Config struct {
	// Listen is the TCP address, e.g. "127.0.0.1:9014" (":0" for any port).
	Listen    string
	DataDir   string
	Region    string
	AccountID string
	Logger    *slog.Logger
	// StorePath is the SQLite database file; empty means DataDir/duro.db.
	// The data directory still holds the rest (signing key, node id, code).
	StorePath string
	// LambdaEndpoint is the initial default invoke endpoint of the routes
	// of AWS's local emulator (api.Options.LambdaEndpoint); empty for none.
	LambdaEndpoint string
	// Engine overrides engine settings (tests shorten backoffs); Region,
	// AccountID, NodeID, SigningKey and Logger are filled in by the server,
	// and Code too unless set.
	Engine engine.Config
	// Runtime overrides the function host's settings (concurrency, idle
	// timeout, interpreters, LogEcho); DataDir, EndpointURL, Region, Logs
	// and Logger are filled in by the server.
	Runtime runtime.Config
	// OTLPEndpoint, when set, exports OpenTelemetry traces (a span per
	// execution, invocation and checkpoint) over OTLP/HTTP to this base
	// URL, e.g. http://localhost:4318 (see tracing.Config.Endpoint).
	OTLPEndpoint string
	// LogRetention is how long the log lines of plain (non-durable)
	// invocations are kept; 0 means the engine's default execution
	// retention (DefaultRetentionDays, 14 days unless set). An execution's
	// lines go with the execution.
	LogRetention time.Duration
	// LogPruneInterval is how often those lines are pruned (default an
	// hour).
	LogPruneInterval time.Duration
}

// Server is a running Duro node.
type Server struct {
	Engine  *engine.Engine
	Runtime *runtime.Router
	store   *sqlite.Store
	http    *http.Server
	obs     *observability // GET /metrics and trace export
	ln      net.Listener
	sock    *mux.Listener // nil without a Unix socket (see listenSocket)
	log     *slog.Logger
	done    chan error
	// stopPrune ends the log pruner, cancelling a prune in progress;
	// pruned is closed when it has returned.
	stopPrune context.CancelFunc
	pruned    chan struct{}
}

// Start opens the data directory and serves until Shutdown.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	key, err := secretFile(filepath.Join(cfg.DataDir, "signing.key"), 32)
	if err != nil {
		return nil, err
	}
	node, err := secretFile(filepath.Join(cfg.DataDir, "node.id"), 8)
	if err != nil {
		return nil, err
	}
	dbPath := cfg.StorePath
	if dbPath == "" {
		dbPath = filepath.Join(cfg.DataDir, "duro.db")
	}
	// Until the server is up, a failure undoes what was started, in the
	// reverse order: the metrics' background count reads the store, the
	// runtime's workers call the listener's API.
	var undo []func()
	started := false
	defer func() {
		if !started {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()
	st, err := sqlite.Open(ctx, dbPath, sqlite.WithLogger(cfg.Logger))
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	undo = append(undo, func() { st.Close() })
	// Listen before building the runtime: functions get Duro's URL.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	undo = append(undo, func() { ln.Close() })
	sock := listenSocket(filepath.Join(cfg.DataDir, SocketName), cfg.Logger)
	if sock != nil {
		undo = append(undo, func() { sock.Close() })
	}
	rcfg := cfg.Runtime
	rcfg.DataDir, rcfg.EndpointURL, rcfg.Region = cfg.DataDir, endpointURL(ln.Addr()), cfg.Region
	if sock != nil {
		rcfg.EndpointSocket = sock.Addr().String()
	}
	rcfg.Logs, rcfg.Logger = st, cfg.Logger
	rt, err := runtime.New(rcfg)
	if err != nil {
		return nil, err
	}
	undo = append(undo, func() { _ = rt.Close(ctx) })
	obs, err := newObservability(ctx, cfg, st, rt)
	if err != nil {
		return nil, err
	}
	undo = append(undo, func() { _ = obs.shutdown(context.Background()) })
	ecfg := cfg.Engine
	ecfg.Region, ecfg.AccountID, ecfg.Logger = cfg.Region, cfg.AccountID, cfg.Logger
	ecfg.Observer = obs.observer(cfg.Engine.Observer)
	ecfg.NodeID = "node-" + hex.EncodeToString(node)
	ecfg.SigningKey = key
	if ecfg.Code == nil {
		ecfg.Code = runtime.NewCodeStore(filepath.Join(cfg.DataDir, "code"))
	}
	eng, err := engine.New(st, rt, ecfg)
	if err != nil {
		return nil, err
	}
	handler := obs.handler(console.Wrap(api.New(eng, api.Options{Logger: cfg.Logger, Logs: st, LambdaEndpoint: cfg.LambdaEndpoint})))
	s := &Server{
		Engine: eng, Runtime: rt, store: st, obs: obs, ln: ln, log: cfg.Logger, done: make(chan error, 1),
		http: &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second},
	}
	// Read at scrape time; s.sock is set before anything is served.
	if err := obs.metrics.RegisterMuxRequests(func() uint64 {
		if s.sock == nil {
			return 0
		}
		return s.sock.Requests()
	}); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	if err := eng.Start(ctx); err != nil {
		return nil, err
	}
	pruneCtx, stopPrune := context.WithCancel(context.Background())
	s.stopPrune, s.pruned = stopPrune, make(chan struct{})
	go s.pruneLogs(pruneCtx, cfg)
	if sock != nil {
		// The socket serves HTTP and, for Duro's own function processes,
		// the multiplexed protocol (internal/mux). Shutdown closes it; its
		// errors are the TCP listener's to report.
		s.sock = mux.Split(sock, handler, cfg.Logger)
		go s.http.Serve(s.sock)
	}
	go func() {
		err := s.http.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	cfg.Logger.Info("duro serving", "addr", ln.Addr().String(), "data_dir", cfg.DataDir, "store", dbPath)
	started = true
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the server's base URL.
func (s *Server) URL() string { return "http://" + s.Addr() }

// SocketPath is the Unix socket that serves the same API to local
// processes, or "" when the server has none.
func (s *Server) SocketPath() string {
	if s.sock == nil {
		return ""
	}
	return s.sock.Addr().String()
}

// Done reports the HTTP server's exit.
func (s *Server) Done() <-chan error { return s.done }

// Shutdown stops accepting requests, lets in-flight ones finish until ctx
// ends, stops the engine, exports the spans not yet sent (with
// OTLPEndpoint), stops the function processes (flushing their logs) and
// closes the store.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	if s.sock != nil {
		if merr := s.sock.Shutdown(ctx); err == nil {
			err = merr
		}
	}
	s.stopPrune()
	<-s.pruned
	s.Engine.Close()
	if oerr := s.obs.shutdown(ctx); oerr != nil {
		// Lost spans are worth a warning, not a failed shutdown.
		s.log.Warn("trace export at shutdown", "err", oerr)
	}
	if rerr := s.Runtime.Close(ctx); err == nil {
		err = rerr
	}
	if cerr := s.store.Close(); err == nil {
		err = cerr
	}
	return err
}

// pruneLogs deletes the log lines of plain invocations older than the
// retention, at start and then every LogPruneInterval, until Shutdown.
// Nothing else would: an execution's lines go with the execution, but a
// plain invocation has no execution to take them along.
func (s *Server) pruneLogs(ctx context.Context, cfg Config) {
	defer close(s.pruned)
	retention := cfg.LogRetention
	if retention <= 0 {
		days := cfg.Engine.DefaultRetentionDays
		if days <= 0 {
			days = engine.DefaultRetentionPeriodDays
		}
		retention = time.Duration(days) * 24 * time.Hour
	}
	interval := cfg.LogPruneInterval
	if interval <= 0 {
		interval = time.Hour
	}
	now := cfg.Engine.Clock
	if now == nil {
		now = time.Now
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		round, cancel := context.WithTimeout(ctx, time.Minute)
		n, err := s.store.PruneLogs(round, now().Add(-retention))
		cancel()
		switch {
		case ctx.Err() != nil:
			return // shutting down
		case err != nil:
			s.log.Warn("prune function logs", "err", err)
		case n > 0:
			s.log.Info("pruned function logs of plain invocations", "lines", n, "older_than", retention)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// SocketName is the Unix socket in the data directory on which the server
// also serves its API. Duro's own function processes use it (the Node
// bootstrap's lean client): on the project's machine a request and its
// answer cost about a third less CPU than over loopback TCP.
const SocketName = "api.sock"

// maxSocketPath is the longest path a Unix socket address holds on Linux
// (sun_path is 108 bytes with its terminating NUL; 104 on the BSDs).
const maxSocketPath = 103

// listenSocket listens on the Unix socket path, replacing a file a server
// that died left behind. It returns nil, having logged why, when the path
// is too long, another live server answers on it, or listening fails: the
// socket only saves CPU, and TCP serves everything without it.
func listenSocket(path string, log *slog.Logger) net.Listener {
	if len(path) > maxSocketPath {
		log.Info("no Unix socket: the data directory's path is too long for one", "path", path)
		return nil
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		log.Warn("no Unix socket: another server answers on it", "path", path)
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		log.Warn("no Unix socket: cannot remove the old one", "path", path, "err", err)
		return nil
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		log.Warn("no Unix socket", "path", path, "err", err)
		return nil
	}
	// Only the server's own user (its function processes) connects, as
	// only it reads the data directory's secret; the umask decides
	// nothing.
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		log.Warn("no Unix socket: cannot restrict it to this user", "path", path, "err", err)
		return nil
	}
	return ln
}

// endpointURL is the URL functions use to reach Duro: a wildcard listen
// address is reached through loopback.
func endpointURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// secretFile reads a random secret kept in the data directory, creating it
// on first use, so that tokens stay valid across restarts.
func secretFile(path string, n int) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		v, derr := hex.DecodeString(strings.TrimSpace(string(b)))
		if derr == nil && len(v) == n {
			return v, nil
		}
		return nil, fmt.Errorf("%s is corrupt", path)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	v := make([]byte, n)
	if _, err := rand.Read(v); err != nil {
		return nil, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(hex.EncodeToString(v)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return v, nil
}

// StoreStats returns the embedded store's group-commit counters: how many
// mutations committed and in how many transactions (each one fsync).
func (s *Server) StoreStats() sqlite.Stats { return s.store.Stats() }
