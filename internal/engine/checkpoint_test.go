package engine

import (
	"regexp"
	"strings"
	"testing"
)

var callbackIDPattern = regexp.MustCompile(`^[A-Za-z0-9+/]+={0,2}$`)

func stateWith(ops ...*opRecord) *execState {
	s := &execState{ops: map[string]*opRecord{}}
	s.reset()
	for _, op := range ops {
		s.ops[op.Id] = op
		s.order = append(s.order, op)
	}
	return s
}

func upd(id, typ, action string) OperationUpdate {
	return OperationUpdate{Id: id, Type: typ, Action: action}
}

func TestValidateUpdates(t *testing.T) {
	wait := &opRecord{Operation: Operation{Id: "w", Type: OpWait, Status: OpStarted}}
	step := &opRecord{Operation: Operation{Id: "s", Type: OpStep, Status: OpSucceeded, Name: "fetch"}}
	ready := &opRecord{Operation: Operation{Id: "r", Type: OpStep, Status: OpReady}}
	ctxOp := &opRecord{Operation: Operation{Id: "c", Type: OpContext, Status: OpStarted}}
	withWait := func(u OperationUpdate) OperationUpdate {
		u.WaitOptions = &WaitOptions{WaitSeconds: ptr(int32(1))}
		return u
	}
	withParent := func(u OperationUpdate, p string) OperationUpdate { u.ParentId = &p; return u }
	retry := func(u OperationUpdate) OperationUpdate {
		u.StepOptions = &StepOptions{NextAttemptDelaySeconds: ptr(int32(1))}
		return u
	}
	tests := []struct {
		name    string
		updates []OperationUpdate
		want    string // "" = valid; else a substring of the error
	}{
		{"step start+succeed in one batch", []OperationUpdate{upd("a", OpStep, ActionStart), upd("a", OpStep, ActionSucceed)}, ""},
		{"succeed without start", []OperationUpdate{upd("a", OpStep, ActionSucceed)}, ""},
		{"restart a ready step", []OperationUpdate{upd("r", OpStep, ActionStart)}, ""},
		{"retry a ready step", []OperationUpdate{retry(upd("r", OpStep, ActionRetry))}, ""},
		{"context children in same batch", []OperationUpdate{upd("p", OpContext, ActionStart), withParent(upd("k", OpStep, ActionSucceed), "p")}, ""},
		{"child of existing context", []OperationUpdate{withParent(upd("k", OpStep, ActionStart), "c")}, ""},
		{"cancel a started wait", []OperationUpdate{upd("w", OpWait, ActionCancel)}, ""},
		{"execution succeed last", []OperationUpdate{upd("a", OpStep, ActionSucceed), upd("x", OpExecution, ActionSucceed)}, ""},
		{"unknown type", []OperationUpdate{upd("a", "FOO", ActionStart)}, "Invalid operation type"},
		{"succeed a wait", []OperationUpdate{upd("w", OpWait, ActionSucceed)}, "Invalid action"},
		{"restart a wait", []OperationUpdate{withWait(upd("w", OpWait, ActionStart))}, "Cannot START"},
		{"wait without seconds", []OperationUpdate{upd("n", OpWait, ActionStart)}, "WaitSeconds"},
		{"succeed a succeeded step", []OperationUpdate{upd("s", OpStep, ActionSucceed)}, "Cannot SUCCEED"},
		{"duplicate id", []OperationUpdate{upd("a", OpStep, ActionSucceed), upd("a", OpStep, ActionSucceed)}, "same ID"},
		{"start twice", []OperationUpdate{upd("a", OpStep, ActionStart), upd("a", OpStep, ActionStart)}, "same ID"},
		{"execution not last", []OperationUpdate{upd("x", OpExecution, ActionSucceed), upd("a", OpStep, ActionSucceed)}, "must be the last"},
		{"two executions", []OperationUpdate{upd("x", OpExecution, ActionFail), upd("y", OpExecution, ActionSucceed)}, "multiple EXECUTION"},
		{"unknown parent", []OperationUpdate{withParent(upd("k", OpStep, ActionStart), "nope")}, "Invalid parent"},
		{"parent not a context", []OperationUpdate{withParent(upd("k", OpStep, ActionStart), "s")}, "Invalid parent"},
		{"retry without options", []OperationUpdate{upd("a", OpStep, ActionRetry)}, "NextAttemptDelaySeconds"},
		{"type changes", []OperationUpdate{upd("s", OpContext, ActionSucceed)}, "Inconsistent operation type"},
		{"name changes", []OperationUpdate{func() OperationUpdate { u := upd("s", OpStep, ActionSucceed); u.Name = ptr("other"); return u }()}, "Inconsistent operation name"},
		{"payload on fail", []OperationUpdate{func() OperationUpdate { u := upd("a", OpStep, ActionFail); u.Payload = ptr("1"); return u }()}, "Payload is not allowed"},
		{"error on succeed", []OperationUpdate{func() OperationUpdate { u := upd("a", OpStep, ActionSucceed); u.Error = NewError("E", "m"); return u }()}, "Error is not allowed"},
		{"oversized error", []OperationUpdate{func() OperationUpdate {
			u := upd("a", OpStep, ActionFail)
			u.Error = NewError("E", strings.Repeat("x", maxErrorBytes))
			return u
		}()}, "Error object size"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := validateUpdates(stateWith(wait, step, ready, ctxOp), tc.updates)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("want valid, got %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("want error containing %q, got valid", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("want error containing %q, got %v", tc.want, err)
			case tc.want != "" && KindOf(err) != KindInvalidParameter:
				t.Fatalf("want InvalidParameter, got kind %v", KindOf(err))
			}
		})
	}
}

func TestVisibleHidesChildrenOfClosedContexts(t *testing.T) {
	yes := true
	s := stateWith(
		&opRecord{Operation: Operation{Id: "exec", Type: OpExecution, Status: OpStarted}},
		&opRecord{Operation: Operation{Id: "c1", Type: OpContext, Status: OpSucceeded}},
		&opRecord{Operation: Operation{Id: "c1-a", ParentId: "c1", Type: OpStep, Status: OpSucceeded}},
		&opRecord{Operation: Operation{Id: "c1-a-b", ParentId: "c1-a", Type: OpStep, Status: OpSucceeded}},
		&opRecord{Operation: Operation{Id: "c2", Type: OpContext, Status: OpSucceeded, ContextDetails: &ContextDetails{ReplayChildren: &yes}}},
		&opRecord{Operation: Operation{Id: "c2-a", ParentId: "c2", Type: OpStep, Status: OpSucceeded}},
		&opRecord{Operation: Operation{Id: "c3", Type: OpContext, Status: OpStarted}},
		&opRecord{Operation: Operation{Id: "c3-a", ParentId: "c3", Type: OpStep, Status: OpSucceeded}},
	)
	var got []string
	for _, op := range s.visible() {
		got = append(got, op.Id)
	}
	want := "exec c1 c2 c2-a c3 c3-a"
	if strings.Join(got, " ") != want {
		t.Fatalf("visible = %v, want %s", got, want)
	}
}
