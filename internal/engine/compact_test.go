package engine

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/duro-run/duro/internal/store"
)

func TestExecDataCompact(t *testing.T) {
	i32 := func(v int32) *int32 { return &v }
	kms := "arn:aws:kms:us-east-1:123456789012:key/k"
	row := store.ExecutionRow{ID: "id-1", Name: "run-1", FunctionName: "fn", FunctionVersion: "$LATEST",
		ARN: "arn:aws:lambda:us-east-1:123456789012:function:fn:$LATEST/durable-execution/run-1/id-1"}
	const fa = "arn:aws:lambda:us-east-1:123456789012:function:fn:$LATEST"
	for _, tc := range []struct {
		name         string
		row          store.ExecutionRow
		d            execData
		wantFA       string // FunctionArn as stored
		wantImplied  bool
		wantConfigIn bool // DurableConfig kept in the stored record
	}{
		{"usual", row, execData{FunctionArn: fa, DurableConfig: &DurableConfig{ExecutionTimeout: i32(300), RetentionPeriodInDays: i32(14)},
			ExecutionTimeout: 300, RetentionDays: 14}, "", true, false},
		{"function ARN not the execution's prefix", row, execData{FunctionArn: fa + "x", ExecutionTimeout: 300, RetentionDays: 14}, fa + "x", false, false},
		{"execution ARN of another form", store.ExecutionRow{ID: "id-1", Name: "run-1", ARN: "arn:other"},
			execData{FunctionArn: fa, ExecutionTimeout: 300, RetentionDays: 14}, fa, false, false},
		{"config without retention", row, execData{FunctionArn: fa, DurableConfig: &DurableConfig{ExecutionTimeout: i32(300)},
			ExecutionTimeout: 300, RetentionDays: 14}, "", false, true},
		{"config with a key", row, execData{FunctionArn: fa, DurableConfig: &DurableConfig{ExecutionTimeout: i32(300), RetentionPeriodInDays: i32(14), KMSKeyArn: &kms},
			ExecutionTimeout: 300, RetentionDays: 14}, "", false, true},
		{"config that differs", row, execData{FunctionArn: fa, DurableConfig: &DurableConfig{ExecutionTimeout: i32(300), RetentionPeriodInDays: i32(7)},
			ExecutionTimeout: 300, RetentionDays: 14}, "", false, true},
		{"no config", row, execData{FunctionArn: fa, ExecutionTimeout: 300, RetentionDays: 14}, "", false, false},
	} {
		stored := tc.d.compact(&tc.row)
		if stored.FunctionArn != tc.wantFA || stored.DurableConfigImplied != tc.wantImplied || (stored.DurableConfig != nil) != tc.wantConfigIn {
			t.Errorf("%s: stored fa %q, implied %v, config %v; want %q, %v, %v", tc.name,
				stored.FunctionArn, stored.DurableConfigImplied, stored.DurableConfig, tc.wantFA, tc.wantImplied, tc.wantConfigIn)
		}
		b, err := stored.appendJSON(nil)
		if err != nil {
			t.Fatalf("%s: encode: %v", tc.name, err)
		}
		var back execData
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: decode %s: %v", tc.name, b, err)
		}
		back.restore(&tc.row)
		if !reflect.DeepEqual(back, tc.d) {
			t.Errorf("%s: read back %+v, want %+v (stored %s)", tc.name, back, tc.d, b)
		}
	}
}
