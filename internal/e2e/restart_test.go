package e2e

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/duro-run/duro/internal/durable"
	"github.com/duro-run/duro/internal/engine"
	"github.com/duro-run/duro/internal/server"
)

// restartable runs nodes one after another on the same data directory.
type restartable struct {
	t   *testing.T
	dir string
	cur *env
}

func (r *restartable) boot() *env {
	r.t.Helper()
	srv, err := server.Start(context.Background(), server.Config{
		Listen: "127.0.0.1:0", DataDir: r.dir, Logger: slog.New(slog.DiscardHandler),
		Engine: engine.Config{RetryBackoff: func(int) time.Duration { return 50 * time.Millisecond }, TimerPollInterval: 200 * time.Millisecond},
	})
	if err != nil {
		r.t.Fatalf("server.Start: %v", err)
	}
	e := &env{t: r.t, srv: srv, client: durable.NewClient(srv.URL())}
	r.cur = e
	return e
}

func (r *restartable) stop() {
	r.t.Helper()
	durable.CloseIdleConnections(r.cur.client)
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.cur.srv.Shutdown(c); err != nil {
		r.t.Fatalf("Shutdown: %v", err)
	}
}

// Timers survive a restart (§7.10): a wait armed by one node completes on
// the next.
func TestRestartKeepsTimers(t *testing.T) {
	t.Parallel()
	r := &restartable{t: t, dir: t.TempDir()}
	fn := func(c *durable.Context, _ json.RawMessage) (any, error) {
		if err := c.Wait("across-restart", 2); err != nil {
			return nil, err
		}
		return "resumed", nil
	}
	e := r.boot()
	e.durableFunction("sleeper", nil, fn)
	arn := e.start("sleeper", latest, "", `{}`)
	e.awaitEvent(arn, types.EventTypeInvocationCompleted, 1)
	r.stop()

	e = r.boot()
	t.Cleanup(r.stop)
	e.srv.Runtime.Handle("sleeper", durable.Handler(e.client, fn))
	d := e.awaitStatus(arn, types.ExecutionStatusSucceeded)
	if aws.ToString(d.Result) != `"resumed"` {
		t.Errorf("result = %q", aws.ToString(d.Result))
	}
	events := e.history(arn)
	checkHistory(t, events, 2)
	wantCleanInvocations(t, events)
	want := []string{"ExecutionStarted", "WaitStarted", "InvocationCompleted", "WaitSucceeded", "InvocationCompleted", "ExecutionSucceeded"}
	if !sameStrings(eventTypes(events), want) {
		t.Errorf("history = %v, want %v", eventTypes(events), want)
	}
}

// An invocation in flight when its node stops is treated as timed out and
// re-invoked by the node's next life (§7.10).
func TestRestartRecoversInFlightInvocation(t *testing.T) {
	t.Parallel()
	r := &restartable{t: t, dir: t.TempDir()}
	e := r.boot()
	var firstStarted atomic.Bool
	entered := make(chan struct{})
	e.createFunction("interrupted", fnOpts{durable: &types.DurableConfig{ExecutionTimeout: aws.Int32(60)}, timeout: 60},
		func(c context.Context, _ engine.Invocation) (engine.InvocationResponse, error) {
			if firstStarted.CompareAndSwap(false, true) {
				close(entered)
			}
			<-c.Done() // hangs until the node shuts down
			return engine.InvocationResponse{}, c.Err()
		})
	arn := e.start("interrupted", latest, "", `{"n":1}`)
	select {
	case <-entered:
	case <-time.After(testTimeout):
		t.Fatal("first invocation never arrived")
	}
	r.stop()

	e = r.boot()
	t.Cleanup(r.stop)
	e.srv.Runtime.Handle("interrupted", durable.Handler(e.client, func(c *durable.Context, in json.RawMessage) (any, error) {
		return c.Step("work", func() (any, error) { return json.RawMessage(in), nil })
	}))
	d := e.awaitStatus(arn, types.ExecutionStatusSucceeded)
	if aws.ToString(d.Result) != `{"n":1}` {
		t.Errorf("result = %q", aws.ToString(d.Result))
	}
	events := e.history(arn)
	checkHistory(t, events, 2)
	ic := eventsOf(events, types.EventTypeInvocationCompleted)
	if len(ic) == 2 && (ic[0].InvocationCompletedDetails.Error == nil || aws.ToString(ic[0].InvocationCompletedDetails.Error.Payload.ErrorType) != "Sandbox.Timedout") {
		t.Errorf("lost invocation recorded as %+v, want an InvocationCompleted with Sandbox.Timedout", ic[0].InvocationCompletedDetails.Error)
	}
}
