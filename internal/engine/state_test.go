package engine

import "testing"

// TestExecutionInputSource checks where an execution's input is read
// from: the EXECUTION operation, or, for an execution recorded by an older
// version without it there, the execution's own record.
func TestExecutionInputSource(t *testing.T) {
	inOp, inRecord := "from-op", "from-record"
	withOp := func(s *execState) {
		s.ops[s.row.ID] = &opRecord{Operation: Operation{Id: s.row.ID, Type: OpExecution,
			ExecutionDetails: &ExecutionDetails{InputPayload: &inOp}}}
	}
	for _, tc := range []struct {
		name   string
		record bool
		op     bool
		want   string
	}{
		{"operation only (this version)", false, true, inOp},
		{"both (an older version's record)", true, true, inOp},
		{"record only", true, false, inRecord},
		{"neither", false, false, ""},
	} {
		s := &execState{ops: map[string]*opRecord{}}
		s.row.ID = "e1"
		if tc.record {
			s.data.Input = &inRecord
		}
		if tc.op {
			withOp(s)
		}
		got := ""
		if p := s.input(); p != nil {
			got = *p
		}
		if got != tc.want {
			t.Errorf("%s: input %q, want %q", tc.name, got, tc.want)
		}
	}
}
