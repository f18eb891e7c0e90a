package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duro-run/duro/internal/engine"
	"github.com/duro-run/duro/internal/runtime"
)

// measurements are the counters and distributions a run collects.
type measurements struct {
	checkpoints       atomic.Int64 // successful checkpoint requests
	checkpointErrors  atomic.Int64
	updates           atomic.Int64 // operation updates sent in checkpoints
	invocations       atomic.Int64 // handler calls
	handlerErrors     atomic.Int64 // invocations that failed in the handler
	completed         atomic.Int64 // executions that succeeded
	failed            atomic.Int64 // executions that failed or could not start
	parked            atomic.Int64 // background executions suspended on their wait
	lateStarts        atomic.Int64 // open loop: starts behind schedule
	jsonFallbacks     atomic.Int64 // documents the fast decoders gave up on
	resets            atomic.Int64 // times reset was called (the progress lines follow it)
	inFlight          atomic.Int64 // executions started and not ended (a gauge: reset leaves it)
	checkpointLatency Histogram
	// window, while a timeline is written, also receives the checkpoint
	// latencies, one window at a time (see timeline).
	window           atomic.Pointer[Histogram]
	executionLatency Histogram
	wakeLag          Histogram
	callbackLag      Histogram
}

// recordCheckpoint counts one checkpoint round trip and, when it
// succeeded, its latency.
func (m *measurements) recordCheckpoint(ok bool, d time.Duration) {
	if !ok {
		m.checkpointErrors.Add(1)
		return
	}
	m.checkpoints.Add(1)
	m.checkpointLatency.Record(d)
	m.recordWindow(d)
}

// reset zeroes everything but the parked count.
func (m *measurements) reset() {
	defer m.resets.Add(1)
	for _, c := range []*atomic.Int64{&m.checkpoints, &m.checkpointErrors, &m.updates, &m.invocations,
		&m.handlerErrors, &m.completed, &m.failed, &m.lateStarts, &m.jsonFallbacks} {
		c.Store(0)
	}
	for _, h := range []*Histogram{&m.checkpointLatency, &m.executionLatency, &m.wakeLag, &m.callbackLag} {
		h.Reset()
	}
}

// Operation types, actions and statuses of the wire protocol.
const (
	opStep     = "STEP"
	opWait     = "WAIT"
	opCallback = "CALLBACK"
	opContext  = "CONTEXT"

	actStart   = "START"
	actSucceed = "SUCCEED"

	stSucceeded = "SUCCEEDED"
	stStarted   = "STARTED"
)

// idleWaitSeconds is how long a background (--suspended) execution waits:
// longer than any run.
const idleWaitSeconds = 2 * 24 * 3600

// player plays durable functions over the wire protocol. Its lean mode is
// a purpose-built client that does what the official SDKs do on the wire
// (envelope in; [START, SUCCEED] per step in one checkpoint, following the
// token chain; PENDING or SUCCEEDED out) with as little client-side work as
// possible, so that the figures are the server's.
type player struct {
	cfg Config
	// c sends what the functions' callers send (callback completions);
	// fn what the functions send (checkpoints, state pages): c itself, or
	// a client over the embedded server's Unix socket, which is how Duro's
	// own workers reach it.
	c       *wireClient
	fn      *wireClient
	m       *measurements
	payload *string // a step's result: a JSON string of cfg.PayloadSize bytes

	// callbacks maps a callback id to the time its completion was sent
	// (for callback_lag_ms); value time.Time.
	callbacks sync.Map
	// completions feeds the callback completers.
	completions chan string
	// sdkSent remembers callback ids the SDK handler has handed to the
	// completers, so each is completed once.
	sdkSent sync.Map
}

func newPlayer(cfg Config, c *wireClient, m *measurements) *player {
	n := max(cfg.PayloadSize-2, 0) // the quotes count
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	s := strconv.Quote(string(b))
	return &player{cfg: cfg, c: c, fn: c, m: m, payload: &s, completions: make(chan string, 4096)}
}

// invocationFunc plays one invocation: it gets the parsed envelope (and the
// raw payload, for the SDK mode) and returns the handler output.
type invocationFunc func(ctx context.Context, env *envelope, raw []byte) ([]byte, error)

// handler adapts f to an in-process runtime handler. It records the
// invocation and the wake-up lags the envelope shows: for each WAIT the
// envelope reports as just completed (UpdatedOperationIds), the time from
// its ScheduledEndTimestamp to now; for each CALLBACK, the time from
// sending its completion to now.
func (p *player) handler(f invocationFunc) runtime.HandlerFunc {
	return func(ctx context.Context, inv engine.Invocation) (engine.InvocationResponse, error) {
		arrived := time.Now()
		p.m.invocations.Add(1)
		var env envelope
		if err := p.m.unmarshal(inv.Payload, &env); err != nil || env.DurableExecutionArn == "" {
			p.m.handlerErrors.Add(1)
			return unhandled("InvalidEnvelope", fmt.Sprintf("bad envelope: %v", err)), nil
		}
		p.recordLags(&env, arrived)
		out, err := f(ctx, &env, inv.Payload)
		if err != nil {
			p.m.handlerErrors.Add(1)
			return unhandled("BenchPlayerError", err.Error()), nil
		}
		return engine.InvocationResponse{Payload: out}, nil
	}
}

func unhandled(typ, msg string) engine.InvocationResponse {
	b, _ := json.Marshal(map[string]string{"errorType": typ, "errorMessage": msg})
	return engine.InvocationResponse{Payload: b, FunctionError: "Unhandled"}
}

func (p *player) recordLags(env *envelope, arrived time.Time) {
	if len(env.UpdatedOperationIds) == 0 {
		return
	}
	updated := make(map[string]bool, len(env.UpdatedOperationIds))
	for _, id := range env.UpdatedOperationIds {
		updated[id] = true
	}
	for i := range env.InitialExecutionState.Operations {
		op := &env.InitialExecutionState.Operations[i]
		if !updated[op.Id] || op.Status != stSucceeded {
			continue
		}
		switch op.Type {
		case opWait:
			if op.WaitDetails != nil && op.WaitDetails.ScheduledEndTimestamp != nil {
				due := time.UnixMilli(int64(*op.WaitDetails.ScheduledEndTimestamp))
				p.m.wakeLag.Record(arrived.Sub(due))
			}
		case opCallback:
			if op.CallbackDetails == nil || op.CallbackDetails.CallbackId == nil {
				continue
			}
			if t, ok := p.callbacks.LoadAndDelete(*op.CallbackDetails.CallbackId); ok {
				p.m.callbackLag.Record(arrived.Sub(t.(time.Time)))
			}
		}
	}
}

// runCompleters completes callbacks handed over by handlers until ctx ends.
func (p *player) runCompleters(ctx context.Context, n int, wg *sync.WaitGroup) {
	for range n {
		wg.Go(func() {
			// The JS function's re-invocations go to Node, not to this
			// player, which then cannot time the callbacks' lag.
			timed := p.cfg.Client != ClientJS
			for {
				select {
				case <-ctx.Done():
					return
				case id := <-p.completions:
					// Stored first: the re-invocation may arrive before
					// the answer to the completion does.
					if timed {
						p.callbacks.Store(id, time.Now())
					}
					if err := p.c.callbackSuccess(ctx, id, []byte(`"done"`)); err != nil {
						p.callbacks.Delete(id)
						if ctx.Err() == nil {
							p.cfg.Logger.Warn("complete callback", "err", err)
						}
					}
				}
			}
		})
	}
}

// session is one invocation of the lean player: the execution's operations
// as it knows them and the current checkpoint token. A session's
// checkpoints are sequential (the token chain); fan-out branches share one
// through a batcher.
type session struct {
	p     *player
	ctx   context.Context
	paths executionPaths
	token string
	ops   map[string]*wireOp
}

func (p *player) newSession(ctx context.Context, env *envelope) (*session, error) {
	s := &session{p: p, ctx: ctx, paths: pathsOf(env.DurableExecutionArn), token: env.CheckpointToken, ops: map[string]*wireOp{}}
	s.merge(env.InitialExecutionState.Operations)
	for marker := env.InitialExecutionState.NextMarker; marker != ""; {
		page, err := p.fn.state(ctx, s.paths, s.token, marker)
		if err != nil {
			return nil, fmt.Errorf("page initial state: %w", err)
		}
		s.merge(page.Operations)
		marker = page.NextMarker
	}
	return s, nil
}

func (s *session) merge(ops []wireOp) {
	for i := range ops {
		op := ops[i]
		s.ops[op.Id] = &op
	}
}

// status returns an operation's status, "" if the execution has none.
func (s *session) status(id string) string {
	if op := s.ops[id]; op != nil {
		return op.Status
	}
	return ""
}

// checkpoint sends updates, adopts the new token and merges the delta.
func (s *session) checkpoint(updates []update) error {
	out, err := s.p.fn.checkpoint(s.ctx, s.paths, s.token, updates)
	if err != nil {
		return err
	}
	s.p.m.updates.Add(int64(len(updates)))
	spin(s.p.cfg.StepWork)
	if out.CheckpointToken != nil {
		s.token = *out.CheckpointToken
	}
	s.merge(out.NewExecutionState.Operations)
	for marker := out.NewExecutionState.NextMarker; marker != ""; {
		page, err := s.p.fn.state(s.ctx, s.paths, s.token, marker)
		if err != nil {
			return fmt.Errorf("page checkpoint delta: %w", err)
		}
		s.merge(page.Operations)
		marker = page.NextMarker
	}
	return nil
}

// stepUpdates are a step's START and SUCCEED, sent together as the JS SDK
// sends an at-least-once step.
func (p *player) stepUpdates(id, parent string) []update {
	return []update{
		{Id: id, ParentId: parent, Name: "step", Type: opStep, SubType: "Step", Action: actStart},
		{Id: id, ParentId: parent, Type: opStep, SubType: "Step", Action: actSucceed, Payload: p.payload},
	}
}

var (
	outPending   = []byte(`{"Status":"PENDING"}`)
	outSucceeded = []byte(`{"Status":"SUCCEEDED","Result":"\"ok\""}`)
)

// step runs step id unless it already succeeded.
func (s *session) step(id, parent string) error {
	if s.status(id) == stSucceeded {
		return nil
	}
	return s.checkpoint(s.p.stepUpdates(id, parent))
}

// playSteps: cfg.Steps sequential steps.
func (p *player) playSteps(ctx context.Context, env *envelope, _ []byte) ([]byte, error) {
	s, err := p.newSession(ctx, env)
	if err != nil {
		return nil, err
	}
	for i := 1; i <= p.cfg.Steps; i++ {
		if err := s.step("s"+strconv.Itoa(i), ""); err != nil {
			return nil, err
		}
	}
	return outSucceeded, nil
}

// playWaits: cfg.Steps times, a step then a wait of cfg.WaitSeconds; the
// invocation suspends (PENDING) on each wait and the server re-invokes it
// when the wait's timer fires.
func (p *player) playWaits(ctx context.Context, env *envelope, _ []byte) ([]byte, error) {
	s, err := p.newSession(ctx, env)
	if err != nil {
		return nil, err
	}
	for i := 1; i <= p.cfg.Steps; i++ {
		n := strconv.Itoa(i)
		if err := s.step("s"+n, ""); err != nil {
			return nil, err
		}
		w := "w" + n
		switch s.status(w) {
		case stSucceeded:
			continue
		case "":
			if err := s.checkpoint([]update{{Id: w, Name: "wait", Type: opWait, SubType: "Wait", Action: actStart,
				WaitOptions: &waitOptions{WaitSeconds: int32(p.cfg.WaitSeconds)}}}); err != nil {
				return nil, err
			}
			if s.status(w) == stSucceeded {
				continue
			}
		}
		return outPending, nil
	}
	return outSucceeded, nil
}

// playCallbacks: cfg.Steps times, a step then a callback that the load
// generator completes with SendDurableExecutionCallbackSuccess; the
// invocation suspends on each callback until then.
func (p *player) playCallbacks(ctx context.Context, env *envelope, _ []byte) ([]byte, error) {
	s, err := p.newSession(ctx, env)
	if err != nil {
		return nil, err
	}
	for i := 1; i <= p.cfg.Steps; i++ {
		n := strconv.Itoa(i)
		if err := s.step("s"+n, ""); err != nil {
			return nil, err
		}
		c := "c" + n
		switch s.status(c) {
		case stSucceeded:
			continue
		case "":
			if err := s.checkpoint([]update{{Id: c, Name: "callback", Type: opCallback, SubType: "Callback", Action: actStart,
				CallbackOptions: &callbackOptions{TimeoutSeconds: 3600}}}); err != nil {
				return nil, err
			}
			op := s.ops[c]
			if op == nil || op.CallbackDetails == nil || op.CallbackDetails.CallbackId == nil {
				return nil, fmt.Errorf("callback %s: no CallbackId in the checkpoint response", c)
			}
			select {
			case p.completions <- *op.CallbackDetails.CallbackId:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return outPending, nil
	}
	return outSucceeded, nil
}

// playIdle is the background function of --suspended: one long wait.
func (p *player) playIdle(ctx context.Context, env *envelope, _ []byte) ([]byte, error) {
	s, err := p.newSession(ctx, env)
	if err != nil {
		return nil, err
	}
	if s.status("w") != "" {
		return outSucceeded, nil
	}
	if err := s.checkpoint([]update{{Id: "w", Name: "idle", Type: opWait, SubType: "Wait", Action: actStart,
		WaitOptions: &waitOptions{WaitSeconds: idleWaitSeconds}}}); err != nil {
		return nil, err
	}
	p.m.parked.Add(1)
	return outPending, nil
}

// playFanout: a parallel CONTEXT with cfg.Branches branch CONTEXTs, each
// running cfg.Steps steps concurrently with the others. As in the JS SDK,
// the branches' updates queue up while a checkpoint is in flight and go
// together in the next one.
func (p *player) playFanout(ctx context.Context, env *envelope, _ []byte) ([]byte, error) {
	s, err := p.newSession(ctx, env)
	if err != nil {
		return nil, err
	}
	const root = "p"
	if s.status(root) == stSucceeded {
		return outSucceeded, nil
	}
	b := &batcher{s: s}
	if s.status(root) == "" {
		b.queue(update{Id: root, Name: "parallel", Type: opContext, SubType: "Parallel", Action: actStart})
	}
	errs := make(chan error, p.cfg.Branches)
	var wg sync.WaitGroup
	for i := 1; i <= p.cfg.Branches; i++ {
		branch := root + "-" + strconv.Itoa(i)
		wg.Go(func() { errs <- p.playBranch(b, root, branch) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if err := b.submit(update{Id: root, Type: opContext, SubType: "Parallel", Action: actSucceed, Payload: p.payload}); err != nil {
		return nil, err
	}
	return outSucceeded, nil
}

func (p *player) playBranch(b *batcher, root, branch string) error {
	st, known := b.status(branch)
	if st == stSucceeded {
		return nil
	}
	if !known {
		b.queue(update{Id: branch, ParentId: root, Name: "branch", Type: opContext, SubType: "ParallelBranch", Action: actStart})
	}
	for i := 1; i <= p.cfg.Steps; i++ {
		id := branch + "-" + strconv.Itoa(i)
		if st, _ := b.status(id); st == stSucceeded {
			continue
		}
		if err := b.submit(p.stepUpdates(id, branch)...); err != nil {
			return err
		}
	}
	return b.submit(update{Id: branch, ParentId: root, Type: opContext, SubType: "ParallelBranch", Action: actSucceed, Payload: p.payload})
}

// batcher shares one session between concurrent branches: updates queue
// while a checkpoint is in flight and the next checkpoint carries them all.
type batcher struct {
	s *session

	mu       sync.Mutex
	pending  []update
	waiters  []chan error
	inFlight bool
}

// status reads an operation's status under the batcher's lock.
func (b *batcher) status(id string) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	op := b.s.ops[id]
	if op == nil {
		return "", false
	}
	return op.Status, true
}

// queue adds fire-and-forget updates: they travel with the next checkpoint.
func (b *batcher) queue(us ...update) {
	b.mu.Lock()
	b.pending = append(b.pending, us...)
	b.mu.Unlock()
}

// submit adds updates and waits until a checkpoint carrying them is
// answered.
func (b *batcher) submit(us ...update) error {
	done := make(chan error, 1)
	b.mu.Lock()
	b.pending = append(b.pending, us...)
	b.waiters = append(b.waiters, done)
	if !b.inFlight {
		b.inFlight = true
		go b.flush()
	}
	b.mu.Unlock()
	return <-done
}

// flush sends checkpoints until nothing is queued.
func (b *batcher) flush() {
	for {
		b.mu.Lock()
		if len(b.waiters) == 0 {
			b.inFlight = false
			b.mu.Unlock()
			return
		}
		us, ws := b.pending, b.waiters
		b.pending, b.waiters = nil, nil
		b.mu.Unlock()

		// The session's ops map is only written here, under the lock,
		// while readers take the lock too.
		out, err := b.s.p.fn.checkpoint(b.s.ctx, b.s.paths, b.s.token, us)
		if err == nil {
			b.s.p.m.updates.Add(int64(len(us)))
			b.mu.Lock()
			if out.CheckpointToken != nil {
				b.s.token = *out.CheckpointToken
			}
			b.s.merge(out.NewExecutionState.Operations)
			b.mu.Unlock()
		}
		for _, w := range ws {
			w <- err
		}
	}
}

// spin keeps the CPU busy for d, as code that computes does: no system
// call, no sleep.
func spin(d time.Duration) {
	if d <= 0 {
		return
	}
	for start := time.Now(); time.Since(start) < d; {
	}
}
