package engine

import (
	"testing"
	"time"
)

func TestTimerKind(t *testing.T) {
	for key, want := range map[string]string{
		timerInvoke:                TimerKindInvoke,
		timerExecutionTimeout:      TimerKindExecutionTimeout,
		timerRetention:             TimerKindRetention,
		timerWait + "3":            TimerKindWait,
		timerRetry + "1-2":         TimerKindRetry,
		timerCallbackTimeout + "4": TimerKindCallbackTimeout,
		timerHeartbeat + "4":       TimerKindCallbackHeartbeat,
		timerChainStart + "5":      TimerKindChainedInvoke,
		timerChildDone + "5":       TimerKindChildDone,
		"something-new:1":          TimerKindOther,
	} {
		if got := timerKind(key); got != want {
			t.Errorf("timerKind(%q) = %q, want %q", key, got, want)
		}
	}
}

// countingObserver counts the calls it gets.
type countingObserver struct{ calls int }

func (c *countingObserver) ExecutionStarted(ExecutionInfo)    { c.calls++ }
func (c *countingObserver) ExecutionFinished(ExecutionInfo)   { c.calls++ }
func (c *countingObserver) InvocationFinished(InvocationInfo) { c.calls++ }
func (c *countingObserver) Checkpointed(CheckpointInfo)       { c.calls++ }
func (c *countingObserver) TimerFired(string, time.Duration)  { c.calls++ }

func TestObservers(t *testing.T) {
	if _, ok := Observers().(NopObserver); !ok {
		t.Errorf("Observers() is not a NopObserver")
	}
	a := &countingObserver{}
	if Observers(nil, a) != Observer(a) {
		t.Errorf("Observers(nil, a) is not just a")
	}
	b := &countingObserver{}
	o := Observers(a, nil, b)
	o.ExecutionStarted(ExecutionInfo{})
	o.ExecutionFinished(ExecutionInfo{})
	o.InvocationFinished(InvocationInfo{})
	o.Checkpointed(CheckpointInfo{})
	o.TimerFired(TimerKindWait, time.Second)
	if a.calls != 5 || b.calls != 5 {
		t.Errorf("calls = %d, %d; want 5 each", a.calls, b.calls)
	}
}
