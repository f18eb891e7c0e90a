// Package engine is Duro's domain: durable executions and their operations,
// checkpoint validation, history events, wake-up rules and timers. It talks
// to persistence through store.Store and to functions through Invoker; it
// knows nothing of HTTP or SQL.
package engine

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duro-run/duro/internal/store"
	"github.com/duro-run/duro/internal/uuid"
)

// Config configures an Engine.
type Config struct {
	Region    string
	AccountID string
	// NodeID names this engine in invocation leases. Keep it stable across
	// restarts of the same node, so that the node reclaims its own leases
	// at start-up instead of waiting for them to expire.
	NodeID string
	// SigningKey authenticates checkpoint tokens and callback ids.
	SigningKey []byte
	Logger     *slog.Logger
	// Code stores uploaded function code; nil keeps only its hash and size.
	Code CodeStore
	// MaxInvocationFailures is how many consecutive failed invocations an
	// execution survives; the next one fails it. Default 5.
	MaxInvocationFailures int
	// RetryBackoff is the delay before re-invoking after the n-th
	// consecutive failed invocation (n from 1). Default: 100ms, 1s, 2s, 4s...
	RetryBackoff func(n int) time.Duration
	// DefaultExecutionTimeout applies when a function's DurableConfig has no
	// ExecutionTimeout. Default 24 h.
	DefaultExecutionTimeout time.Duration
	// DefaultRetentionDays applies when DurableConfig has no
	// RetentionPeriodInDays. Default 14 (CloudFormation's default).
	DefaultRetentionDays int
	// Clock tells the time (default time.Now). Tests move it forward to see
	// day-long timers, such as retention, fire.
	Clock func() time.Time
	// TimerPollInterval bounds how long the timer loop sleeps without a
	// local signal, so that timers written by other nodes fire. Default 1s.
	TimerPollInterval time.Duration
	// Observer is told about executions, invocations, checkpoints and
	// timers (metrics, traces). Default: NopObserver.
	Observer Observer
}

// Engine implements the durable execution service.
type Engine struct {
	cfg     Config
	store   store.Store
	invoker Invoker
	log     *slog.Logger
	sign    signer
	now     func() time.Time

	// stripes are the per-execution locks, held across an update's commit.
	// Two executions that share a stripe wait for each other's commits, so
	// there are many: with 256, half of 200 executions in flight shared
	// one (the birthday bound) and their checkpoints took two group
	// commits instead of one.
	stripes [4096]sync.Mutex

	// cache holds the executions with an invocation in flight; idle the
	// recently suspended ones, within bounds (idlecache.go).
	cacheMu sync.Mutex
	cache   map[string]*execState
	idle    *idleCache

	functions functionCache

	waitMu  sync.Mutex
	waiters map[string][]chan ExecutionDescription

	timerWake chan struct{}
	// timerPlan is when the timer loop next wakes on its own (Unix ns), or
	// 0 while it is scanning; a timer due later needs no signal.
	timerPlan atomic.Int64
	firing    sync.Map // execID+"\x00"+key -> struct{}: timers being handled
	// fired holds the keys of firing whose handler has returned; the timer
	// loop removes them from firing just before its next scan, never
	// during one, so that a scan that read a timer before its handler
	// committed does not fire it again.
	firedMu sync.Mutex
	fired   []string

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// DefaultRetentionPeriodDays is how long a finished execution is kept when
// neither its function's DurableConfig nor Config.DefaultRetentionDays says
// (CloudFormation's default).
const DefaultRetentionPeriodDays = 14

// New creates an engine. Call Start to run its background loops.
func New(st store.Store, inv Invoker, cfg Config) (*Engine, error) {
	if len(cfg.SigningKey) < 16 {
		return nil, errors.New("engine: signing key must be at least 16 bytes")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "123456789012"
	}
	if cfg.NodeID == "" {
		cfg.NodeID = "node-" + uuid.New()[:8]
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxInvocationFailures <= 0 {
		cfg.MaxInvocationFailures = 5
	}
	if cfg.RetryBackoff == nil {
		cfg.RetryBackoff = defaultBackoff
	}
	if cfg.DefaultExecutionTimeout <= 0 {
		cfg.DefaultExecutionTimeout = 24 * time.Hour
	}
	if cfg.DefaultRetentionDays <= 0 {
		cfg.DefaultRetentionDays = DefaultRetentionPeriodDays
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.TimerPollInterval <= 0 {
		cfg.TimerPollInterval = time.Second
	}
	if cfg.Observer == nil {
		cfg.Observer = NopObserver{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Engine{
		cfg:       cfg,
		store:     st,
		invoker:   inv,
		log:       cfg.Logger,
		sign:      newSigner(cfg.SigningKey),
		now:       cfg.Clock,
		cache:     map[string]*execState{},
		idle:      newIdleCache(idleCacheEntries, idleCacheBytes),
		waiters:   map[string][]chan ExecutionDescription{},
		timerWake: make(chan struct{}, 1),
		ctx:       ctx,
		cancel:    cancel,
	}, nil
}

func defaultBackoff(n int) time.Duration {
	if n <= 1 {
		return 100 * time.Millisecond
	}
	d := time.Second << (n - 2)
	if d > 30*time.Second {
		d = 30 * time.Second
	}
	return d
}

// Start recovers invocations this node left in flight and starts the timer
// loop. It returns once recovery has been scheduled.
func (e *Engine) Start(ctx context.Context) error {
	if err := e.recoverLeases(ctx, e.cfg.NodeID); err != nil {
		return fmt.Errorf("engine: recover leases: %w", err)
	}
	e.wg.Add(1)
	go e.timerLoop()
	return nil
}

// Close stops the background loops and waits for running invocations'
// bookkeeping to finish (invocations themselves are cancelled).
func (e *Engine) Close() {
	e.cancel()
	e.wg.Wait()
}

func (e *Engine) stripe(execID string) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(execID))
	return &e.stripes[h.Sum32()%uint32(len(e.stripes))]
}

// newExecutionID returns a UUID v7: 48 bits of Unix milliseconds, then
// random bits. Executions started close together get ids that sort close
// together, so the store's indexes keyed by execution id keep the rows of
// the executions in flight in a few pages instead of one page each, which
// is most of what a group commit writes.
func newExecutionID(now time.Time) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	ms := uint64(now.UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	return uuid.Format(b)
}

// notifyTimersAt signals the timer loop about a timer due at due, unless
// the loop will wake before then anyway: most timers set (an execution's
// timeout, a day-long wait) are far in the future, and waking the loop for
// each would cost a store query per started execution.
func (e *Engine) notifyTimersAt(due time.Time) {
	if plan := e.timerPlan.Load(); plan != 0 && due.UnixNano() >= plan {
		return
	}
	e.notifyTimers()
}

func (e *Engine) notifyTimers() {
	select {
	case e.timerWake <- struct{}{}:
	default:
	}
}

// notifyTerminal hands a finished execution's description to the callers
// waiting for it.
func (e *Engine) notifyTerminal(execID string, d ExecutionDescription) {
	e.waitMu.Lock()
	ws := e.waiters[execID]
	delete(e.waiters, execID)
	e.waitMu.Unlock()
	for _, w := range ws {
		w <- d // buffered, and each waiter is sent at most one
	}
}

// subscribe registers for an execution's terminal description.
func (e *Engine) subscribe(execID string) (chan ExecutionDescription, func()) {
	ch := make(chan ExecutionDescription, 1)
	e.waitMu.Lock()
	e.waiters[execID] = append(e.waiters[execID], ch)
	e.waitMu.Unlock()
	return ch, func() {
		e.waitMu.Lock()
		defer e.waitMu.Unlock()
		ws := e.waiters[execID]
		for i, w := range ws {
			if w == ch {
				e.waiters[execID] = append(ws[:i], ws[i+1:]...)
				break
			}
		}
		if len(e.waiters[execID]) == 0 {
			delete(e.waiters, execID)
		}
	}
}
