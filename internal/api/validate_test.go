package api

import (
	"errors"
	"net/http"
	"net/url"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/engine"
)

const (
	validArn       = "arn:aws:lambda:us-east-1:123456789012:function:my-func:1/durable-execution/order-42/0f8e7d6c-aaaa"
	validToken     = "dG9rZW4x+/="
	validCallback  = "Y2IxMjM+/w=="
	uuidPatternStr = `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`
)

// wantErr checks err against an expected AWS shape and message fragment;
// an empty shape means no error is expected.
func wantErr(t *testing.T, err error, shape, contains string) {
	t.Helper()
	if shape == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var ae *apiError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s error containing %q, got %v", shape, contains, err)
	}
	if ae.shape.name != shape {
		t.Fatalf("want %s, got %s: %s", shape, ae.shape.name, ae.message)
	}
	if !strings.Contains(ae.message, contains) {
		t.Fatalf("message %q does not contain %q", ae.message, contains)
	}
}

func mustQuery(t *testing.T, raw string) query {
	t.Helper()
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatalf("parse query %q: %v", raw, err)
	}
	return query{values: v}
}

func TestStringRules(t *testing.T) {
	tests := []struct {
		name  string
		rule  stringRule
		value string
		ok    bool
	}{
		{"arn numeric version", ruleDurableExecutionArn, validArn, true},
		{"arn $LATEST", ruleDurableExecutionArn, "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST/durable-execution/n/id", true},
		{"arn $LATEST.PUBLISHED", ruleDurableExecutionArn, "arn:aws:lambda:local:123456789012:function:f:$LATEST.PUBLISHED/durable-execution/n/id", true},
		{"arn unqualified", ruleDurableExecutionArn, "arn:aws:lambda:us-east-1:123456789012:function:f/durable-execution/n/id", false},
		{"arn alias", ruleDurableExecutionArn, "arn:aws:lambda:us-east-1:123456789012:function:f:prod/durable-execution/n/id", false},
		{"arn short account", ruleDurableExecutionArn, "arn:aws:lambda:us-east-1:12345678901:function:f:1/durable-execution/n/id", false},
		{"arn trailing junk (anchored)", ruleDurableExecutionArn, validArn + "/extra", false},
		{"arn leading junk (anchored)", ruleDurableExecutionArn, "x" + validArn, false},
		{"arn not an arn", ruleDurableExecutionArn, "hello", false},
		{"arn too long", ruleDurableExecutionArn, validArn + strings.Repeat("a", 1024), false},
		{"execution name", ruleDurableExecutionName, "order-42_A", true},
		{"execution name dot", ruleDurableExecutionName, "order.42", false},
		{"execution name 64", ruleDurableExecutionName, strings.Repeat("a", 64), true},
		{"execution name 65", ruleDurableExecutionName, strings.Repeat("a", 65), false},
		{"token", ruleCheckpointToken, validToken, true},
		{"token 3 pad", ruleCheckpointToken, "abc===", false},
		{"token space", ruleCheckpointToken, "ab c", false},
		{"token max", ruleCheckpointToken, strings.Repeat("A", 2048), true},
		{"token over max", ruleCheckpointToken, strings.Repeat("A", 2049), false},
		{"callback id", ruleCallbackID, validCallback, true},
		{"callback id dash", ruleCallbackID, "ab-c", false},
		{"client token uuid", ruleClientToken, "ab3f8469-5406-468a-bc33-6f6592806e2a", true},
		{"client token space", ruleClientToken, "a b", false},
		{"client token 65", ruleClientToken, strings.Repeat("x", 65), false},
		{"operation id", ruleOperationID, "c4ca4238a0b92382", true},
		{"operation id slash", ruleOperationID, "a/b", false},
		{"operation name spaces", ruleOperationName, "fetch user #1", true},
		{"operation name newline", ruleOperationName, "a\nb", false},
		{"operation name unicode", ruleOperationName, "café", false},
		{"subtype", ruleOperationSubType, "WaitForCallback", true},
		{"subtype 33", ruleOperationSubType, strings.Repeat("a", 33), false},
		{"tenant", ruleTenantID, "tenant/a:b=c+d-e@f g.h_i", true},
		{"tenant bad", ruleTenantID, "tenant#1", false},
		{"qualifier $LATEST", ruleQualifier, "$LATEST", true},
		{"qualifier $LATEST.PUBLISHED", ruleQualifier, "$LATEST.PUBLISHED", true},
		{"qualifier version", ruleQualifier, "12", true},
		{"qualifier alias", ruleQualifier, "prod-1_a", true},
		{"qualifier dot", ruleQualifier, "v1.2", false},
		{"fn name", ruleNamespacedFunctionName, "my-func", true},
		{"fn name dotted", ruleNamespacedFunctionName, "my.func", true},
		{"fn name qualified", ruleNamespacedFunctionName, "my-func:1", true},
		{"fn name $LATEST.PUBLISHED", ruleNamespacedFunctionName, "my-func:$LATEST.PUBLISHED", true},
		{"fn arn", ruleNamespacedFunctionName, "arn:aws:lambda:us-east-1:123456789012:function:my-func", true},
		{"fn arn qualified", ruleNamespacedFunctionName, "arn:aws:lambda:us-east-1:123456789012:function:my-func:$LATEST", true},
		{"fn partial arn", ruleNamespacedFunctionName, "123456789012:function:my-func", true},
		{"fn space", ruleNamespacedFunctionName, "my func", false},
		{"fn too many colons", ruleNamespacedFunctionName, "a:b:c", false},
		{"strict fn name dotted", ruleFunctionName, "my.func", false},
		{"strict fn name", ruleFunctionName, "my-func", true},
		{"role", ruleRoleArn, "arn:aws:iam::123456789012:role/service-role/x", true},
		{"role bad", ruleRoleArn, "role/x", false},
		{"kms empty", ruleKMSKeyArn, "", true},
		{"kms arn", ruleKMSKeyArn, "arn:aws:kms:us-east-1:123456789012:key/abc", true},
		{"kms bad", ruleKMSKeyArn, "key/abc", false},
		{"handler", ruleHandler, "index.handler", true},
		{"handler space", ruleHandler, "index handler", false},
		{"env name", ruleEnvVarName, "FOO_1", true},
		{"env name one char", ruleEnvVarName, "F", false},
		{"env name digit first", ruleEnvVarName, "1F", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v violations
			v.str("member", tt.value, tt.rule)
			if ok := len(v) == 0; ok != tt.ok {
				t.Fatalf("str(%q) ok=%v, want %v (%v)", tt.value, ok, tt.ok, v)
			}
		})
	}
}

func TestViolationMessages(t *testing.T) {
	t.Run("none", func(t *testing.T) {
		var v violations
		if v.err() != nil {
			t.Fatal("empty violations produced an error")
		}
	})
	t.Run("pattern", func(t *testing.T) {
		var v violations
		v.required("durableExecutionArn", "x", ruleDurableExecutionArn)
		wantErr(t, v.err(), "InvalidParameterValueException",
			"1 validation error detected: Value 'x' at 'durableExecutionArn' failed to satisfy constraint: "+
				"Member must satisfy regular expression pattern: arn:([a-zA-Z0-9-]+):lambda:")
	})
	t.Run("null", func(t *testing.T) {
		var v violations
		v.required("checkpointToken", "", ruleCheckpointToken)
		wantErr(t, v.err(), "InvalidParameterValueException",
			"1 validation error detected: Value null at 'checkpointToken' failed to satisfy constraint: Member must not be null")
	})
	t.Run("several", func(t *testing.T) {
		var v violations
		v.str("name", strings.Repeat("!", 65), ruleDurableExecutionName)
		v.intRange("maxItems", 1001, 0, 1000)
		err := v.err()
		wantErr(t, err, "InvalidParameterValueException", "3 validation errors detected: ")
		wantErr(t, err, "InvalidParameterValueException", "Member must have length less than or equal to 64; ")
		wantErr(t, err, "InvalidParameterValueException",
			"Value '1001' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000")
	})
	t.Run("enum", func(t *testing.T) {
		var v violations
		v.enum("invocationType", "Sync", enumInvocationType)
		wantErr(t, v.err(), "InvalidParameterValueException",
			"Value 'Sync' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]")
	})
	t.Run("sensitive value not echoed", func(t *testing.T) {
		var v violations
		secret := "s3cr3t"
		v.add("payload", &secret, true, "Member must be short")
		wantErr(t, v.err(), "InvalidParameterValueException", "Value at 'payload' failed")
		if strings.Contains(v[0], secret) {
			t.Fatal("sensitive value echoed")
		}
	})
	t.Run("huge value not echoed", func(t *testing.T) {
		var v violations
		v.str("durableExecutionArn", strings.Repeat("a", 5000), ruleDurableExecutionArn)
		if strings.Contains(v.err().Error(), "aaaa") {
			t.Fatal("huge value echoed")
		}
	})
	t.Run("list", func(t *testing.T) {
		var v violations
		v.listLen("statuses", []string{}, 1, 10)
		v.enumList("statuses", []string{"RUNNING", "DONE"}, enumExecutionStatus)
		err := v.err()
		wantErr(t, err, "InvalidParameterValueException", "Value '[]' at 'statuses' failed to satisfy constraint: Member must have length greater than or equal to 1")
		wantErr(t, err, "InvalidParameterValueException",
			"Value '[RUNNING, DONE]' at 'statuses' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, TIMED_OUT, STOPPED]]")
	})
}

func TestParseGetExecution(t *testing.T) {
	tests := []struct {
		name, arn, query string
		want             bool
		shape, contains  string
	}{
		{"default includes data", validArn, "", true, "", ""},
		{"false", validArn, "IncludeExecutionData=false", false, "", ""},
		{"TRUE any case", validArn, "IncludeExecutionData=TRUE", true, "", ""},
		{"not a bool", validArn, "IncludeExecutionData=yes", false, "InvalidParameterValueException", "expected true or false"},
		{"bad arn", "arn:aws:x", "", false, "InvalidParameterValueException", "Value 'arn:aws:x' at 'durableExecutionArn'"},
		{"empty arn", "", "", false, "InvalidParameterValueException", "Value null at 'durableExecutionArn'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseGetExecution(tt.arn, mustQuery(t, tt.query))
			wantErr(t, err, tt.shape, tt.contains)
			if err == nil && got != tt.want {
				t.Fatalf("includeData = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseHistoryQuery(t *testing.T) {
	tests := []struct {
		name, query     string
		want            engine.HistoryQuery
		shape, contains string
	}{
		{name: "defaults", query: "",
			want: engine.HistoryQuery{DurableExecutionArn: validArn, IncludeExecutionData: true}},
		{name: "all set", query: "IncludeExecutionData=false&MaxItems=1000&Marker=a%2Bb%2F%3D&ReverseOrder=true",
			want: engine.HistoryQuery{DurableExecutionArn: validArn, MaxItems: 1000, Marker: "a+b/=", ReverseOrder: true}},
		{name: "max items zero is default", query: "MaxItems=0",
			want: engine.HistoryQuery{DurableExecutionArn: validArn, IncludeExecutionData: true}},
		{name: "max items over", query: "MaxItems=1001", shape: "InvalidParameterValueException",
			contains: "Value '1001' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000"},
		{name: "max items negative", query: "MaxItems=-1", shape: "InvalidParameterValueException",
			contains: "Member must have value greater than or equal to 0"},
		{name: "max items not int", query: "MaxItems=ten", shape: "InvalidParameterValueException", contains: "expected an integer"},
		{name: "max items over int32", query: "MaxItems=99999999999", shape: "InvalidParameterValueException", contains: "expected an integer"},
		{name: "reverse not bool", query: "ReverseOrder=1", shape: "InvalidParameterValueException", contains: "ReverseOrder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseHistoryQuery(validArn, mustQuery(t, tt.query))
			wantErr(t, err, tt.shape, tt.contains)
			if err == nil && got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseStateQuery(t *testing.T) {
	got, err := parseStateQuery(validArn, mustQuery(t, "CheckpointToken=dG9rZW4x%2B%2F%3D&Marker=m&MaxItems=1000"))
	wantErr(t, err, "", "")
	want := engine.StateQuery{DurableExecutionArn: validArn, CheckpointToken: "dG9rZW4x+/=", Marker: "m", MaxItems: 1000}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}

	_, err = parseStateQuery(validArn, mustQuery(t, ""))
	wantErr(t, err, "InvalidParameterValueException", "Value null at 'checkpointToken' failed to satisfy constraint: Member must not be null")

	_, err = parseStateQuery(validArn, mustQuery(t, "CheckpointToken="))
	wantErr(t, err, "InvalidParameterValueException", "Member must have length greater than or equal to 1")

	_, err = parseStateQuery("bad", mustQuery(t, "CheckpointToken=a%20b"))
	wantErr(t, err, "InvalidParameterValueException", "2 validation errors detected")
}

func TestParseListQuery(t *testing.T) {
	t.Run("full", func(t *testing.T) {
		q := "DurableExecutionName=order-42&MaxItems=10&Qualifier=%24LATEST&ReverseOrder=false" +
			"&StartedAfter=2026-01-02T03%3A04%3A05Z&StartedBefore=2026-01-02T03%3A04%3A05.123456789Z" +
			"&Statuses=FAILED&Statuses=RUNNING&Marker=abc"
		got, err := parseListQuery("arn:aws:lambda:us-east-1:123456789012:function:my-func", mustQuery(t, q))
		wantErr(t, err, "", "")
		if got.Name != "order-42" || got.MaxItems != 10 || got.Qualifier != "$LATEST" || got.ReverseOrder || got.Marker != "abc" {
			t.Fatalf("got %+v", got)
		}
		if len(got.Statuses) != 2 || got.Statuses[0] != "FAILED" || got.Statuses[1] != "RUNNING" {
			t.Fatalf("statuses %v", got.Statuses)
		}
		if !got.StartedAfter.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
			t.Fatalf("StartedAfter %v", got.StartedAfter)
		}
		if !got.StartedBefore.Equal(time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)) {
			t.Fatalf("StartedBefore %v", got.StartedBefore)
		}
	})
	tests := []struct {
		name, fn, query string
		shape, contains string
	}{
		{"minimal", "my-func", "", "", ""},
		{"millis", "my-func", "StartedAfter=2026-01-02T03:04:05.123Z", "", ""},
		{"micros", "my-func", "StartedAfter=2026-01-02T03:04:05.123456Z", "", ""},
		{"offset", "my-func", "StartedAfter=2026-01-02T03:04:05%2B02:00", "", ""},
		{"date only", "my-func", "StartedAfter=2026-01-02", "InvalidParameterValueException", "StartedAfter"},
		{"epoch", "my-func", "StartedBefore=1767323045", "InvalidParameterValueException", "StartedBefore"},
		{"bad status", "my-func", "Statuses=DONE", "InvalidParameterValueException", "Member must satisfy enum value set"},
		{"too many statuses", "my-func", strings.Repeat("Statuses=RUNNING&", 11), "InvalidParameterValueException",
			"Member must have length less than or equal to 10"},
		{"bad name", "my-func", "DurableExecutionName=a.b", "InvalidParameterValueException", "'durableExecutionName'"},
		{"bad qualifier", "my-func", "Qualifier=a.b", "InvalidParameterValueException", "'qualifier'"},
		{"bad function", "my func", "", "InvalidParameterValueException", "'functionName'"},
		{"max items 0 is default", "my-func", "MaxItems=0", "", ""},
		{"max items over", "my-func", "MaxItems=1001", "InvalidParameterValueException", "less than or equal to 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseListQuery(tt.fn, mustQuery(t, tt.query))
			wantErr(t, err, tt.shape, tt.contains)
		})
	}
}

func TestParseCheckpoint(t *testing.T) {
	// The request of protocol.md §2.10, as the JS SDK sends it.
	const example = `{"CheckpointToken":"dG9rZW4x+/=","ClientToken":"ab3f8469-5406-468a-bc33-6f6592806e2a","Updates":[
 {"Action":"SUCCEED","Id":"1","Payload":"\"ok\"","SubType":"Step","Type":"STEP"},
 {"Action":"START","Id":"2","Type":"WAIT","WaitOptions":{"WaitSeconds":30}},
 {"Action":"START","CallbackOptions":{"TimeoutSeconds":0,"HeartbeatTimeoutSeconds":60},"Id":"3","Type":"CALLBACK"},
 {"Action":"START","ChainedInvokeOptions":{"FunctionName":"other:1","XAmznTraceId":"Root=1-abc"},"Id":"4","Type":"CHAINED_INVOKE"}]}`

	t.Run("example", func(t *testing.T) {
		in, err := parseCheckpoint(validArn, []byte(example))
		wantErr(t, err, "", "")
		if in.DurableExecutionArn != validArn || in.CheckpointToken != "dG9rZW4x+/=" || in.ClientToken != "ab3f8469-5406-468a-bc33-6f6592806e2a" {
			t.Fatalf("got %+v", in)
		}
		if len(in.Updates) != 4 || *in.Updates[0].Payload != `"ok"` || *in.Updates[1].WaitOptions.WaitSeconds != 30 ||
			*in.Updates[2].CallbackOptions.HeartbeatTimeoutSeconds != 60 || in.Updates[3].ChainedInvokeOptions.FunctionName != "other:1" {
			t.Fatalf("updates %+v", in.Updates)
		}
	})
	t.Run("no updates is an empty list", func(t *testing.T) {
		in, err := parseCheckpoint(validArn, []byte(`{"CheckpointToken":"abc"}`))
		wantErr(t, err, "", "")
		if in.Updates == nil || len(in.Updates) != 0 {
			t.Fatalf("updates %#v", in.Updates)
		}
	})
	t.Run("unknown members tolerated", func(t *testing.T) {
		_, err := parseCheckpoint(validArn, []byte(`{"CheckpointToken":"abc","Future":1,"Updates":[{"Id":"a","Type":"STEP","Action":"START","NewThing":{}}]}`))
		wantErr(t, err, "", "")
	})

	step := func(extra string) string {
		return `{"CheckpointToken":"abc","Updates":[{"Id":"a","Type":"STEP","Action":"SUCCEED"` + extra + `}]}`
	}
	big := func(n int) string { return `,"Payload":"` + strings.Repeat("x", n) + `"` }
	tests := []struct {
		name, body      string
		shape, contains string
	}{
		{"empty body", ``, "InvalidParameterValueException", "Value null at 'checkpointToken'"},
		{"empty object", `{}`, "InvalidParameterValueException", "Value null at 'checkpointToken'"},
		{"malformed", `{"CheckpointToken":`, "InvalidParameterValueException", "Could not parse request body into json"},
		{"syntax", `{"CheckpointToken" "x"}`, "InvalidParameterValueException", "invalid character"},
		{"trailing data", `{"CheckpointToken":"abc"} {}`, "InvalidParameterValueException", "unexpected data after"},
		{"not an object", `[]`, "InvalidParameterValueException", "expected an object"},
		{"wrong type", `{"CheckpointToken":5}`, "InvalidParameterValueException", "member 'CheckpointToken': expected a string, got number"},
		{"int overflow", step(`,"StepOptions":{"NextAttemptDelaySeconds":99999999999}`), "InvalidParameterValueException",
			"member 'Updates.StepOptions.NextAttemptDelaySeconds': expected an integer in range, got number 99999999999"},
		{"token pattern", `{"CheckpointToken":"a b"}`, "InvalidParameterValueException", "Value 'a b' at 'checkpointToken'"},
		{"client token empty", `{"CheckpointToken":"abc","ClientToken":""}`, "InvalidParameterValueException", "'clientToken'"},
		{"missing id", `{"CheckpointToken":"abc","Updates":[{"Type":"STEP","Action":"START"}]}`, "InvalidParameterValueException",
			"Value null at 'updates.1.member.id'"},
		{"missing type and action", `{"CheckpointToken":"abc","Updates":[{"Id":"a"}]}`, "InvalidParameterValueException",
			"2 validation errors detected: Value null at 'updates.1.member.type' failed to satisfy constraint: Member must not be null; Value null at 'updates.1.member.action'"},
		{"bad type", `{"CheckpointToken":"abc","Updates":[{"Id":"a","Type":"INVOKE","Action":"START"}]}`, "InvalidParameterValueException",
			"Value 'INVOKE' at 'updates.1.member.type' failed to satisfy constraint: Member must satisfy enum value set: [EXECUTION, CONTEXT, STEP, WAIT, CALLBACK, CHAINED_INVOKE]"},
		{"bad action", `{"CheckpointToken":"abc","Updates":[{"Id":"a","Type":"STEP","Action":"GO"}]}`, "InvalidParameterValueException",
			"'updates.1.member.action'"},
		{"second update indexed", `{"CheckpointToken":"abc","Updates":[{"Id":"a","Type":"STEP","Action":"START"},{"Id":"b/c","Type":"STEP","Action":"START"}]}`,
			"InvalidParameterValueException", "Value 'b/c' at 'updates.2.member.id'"},
		{"parent id", step(`,"ParentId":"x y"`), "InvalidParameterValueException", "'updates.1.member.parentId'"},
		{"name", step(`,"Name":""`), "InvalidParameterValueException", "'updates.1.member.name' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"subtype", step(`,"SubType":"a.b"`), "InvalidParameterValueException", "'updates.1.member.subType'"},
		{"retry delay 0", step(`,"StepOptions":{"NextAttemptDelaySeconds":0}`), "InvalidParameterValueException",
			"Value '0' at 'updates.1.member.stepOptions.nextAttemptDelaySeconds' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"wait max", `{"CheckpointToken":"abc","Updates":[{"Id":"a","Type":"WAIT","Action":"START","WaitOptions":{"WaitSeconds":31622400}}]}`, "", ""},
		{"wait over", `{"CheckpointToken":"abc","Updates":[{"Id":"a","Type":"WAIT","Action":"START","WaitOptions":{"WaitSeconds":31622401}}]}`,
			"InvalidParameterValueException", "'updates.1.member.waitOptions.waitSeconds'"},
		{"callback timeout zero ok", `{"CheckpointToken":"abc","Updates":[{"Id":"a","Type":"CALLBACK","Action":"START","CallbackOptions":{"TimeoutSeconds":0,"HeartbeatTimeoutSeconds":99999999}}]}`, "", ""},
		{"callback heartbeat over", `{"CheckpointToken":"abc","Updates":[{"Id":"a","Type":"CALLBACK","Action":"START","CallbackOptions":{"HeartbeatTimeoutSeconds":100000000}}]}`,
			"InvalidParameterValueException", "'updates.1.member.callbackOptions.heartbeatTimeoutSeconds'"},
		{"callback timeout negative", `{"CheckpointToken":"abc","Updates":[{"Id":"a","Type":"CALLBACK","Action":"START","CallbackOptions":{"TimeoutSeconds":-1}}]}`,
			"InvalidParameterValueException", "'updates.1.member.callbackOptions.timeoutSeconds'"},
		{"chained invoke function required", `{"CheckpointToken":"abc","Updates":[{"Id":"a","Type":"CHAINED_INVOKE","Action":"START","ChainedInvokeOptions":{}}]}`,
			"InvalidParameterValueException", "Value null at 'updates.1.member.chainedInvokeOptions.functionName'"},
		{"chained invoke tenant", `{"CheckpointToken":"abc","Updates":[{"Id":"a","Type":"CHAINED_INVOKE","Action":"START","ChainedInvokeOptions":{"FunctionName":"f","TenantId":"#"}}]}`,
			"InvalidParameterValueException", "'updates.1.member.chainedInvokeOptions.tenantId'"},
		{"step payload at limit", step(big(262144)), "", ""},
		{"step payload over limit", step(big(262145)), "InvalidParameterValueException",
			"STEP output payload size must be less than or equal to 262144 bytes"},
		{"context payload over limit", `{"CheckpointToken":"abc","Updates":[{"Id":"a","Type":"CONTEXT","Action":"SUCCEED"` + big(262145) + `}]}`,
			"InvalidParameterValueException", "CONTEXT output payload size must be less than or equal to 262144 bytes"},
		{"chained invoke input over limit", `{"CheckpointToken":"abc","Updates":[{"Id":"a","Type":"CHAINED_INVOKE","Action":"START","ChainedInvokeOptions":{"FunctionName":"f"}` + big(262145) + `}]}`,
			"InvalidParameterValueException", "CHAINED_INVOKE input payload size must be less than or equal to 262144 bytes"},
		{"execution payload may be large", `{"CheckpointToken":"abc","Updates":[{"Id":"a","Type":"EXECUTION","Action":"SUCCEED"` + big(6291456) + `}]}`, "", ""},
		{"execution payload over model max", `{"CheckpointToken":"abc","Updates":[{"Id":"a","Type":"EXECUTION","Action":"SUCCEED"` + big(6291457) + `}]}`,
			"InvalidParameterValueException", "EXECUTION output payload size must be less than or equal to 6291456 bytes"},
		{"multibyte payload counted in bytes", step(`,"Payload":"` + strings.Repeat("é", 131073) + `"`), "InvalidParameterValueException",
			"STEP output payload size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseCheckpoint(validArn, []byte(tt.body))
			wantErr(t, err, tt.shape, tt.contains)
		})
	}
	t.Run("bad arn reported with body", func(t *testing.T) {
		_, err := parseCheckpoint("nope", []byte(`{}`))
		wantErr(t, err, "InvalidParameterValueException",
			"2 validation errors detected: Value 'nope' at 'durableExecutionArn'")
	})
}

func TestParseErrorObject(t *testing.T) {
	tests := []struct {
		name, body string
		wantNil    bool
		shape      string
	}{
		{"empty body", "", true, ""},
		{"blank body", " \n", true, ""},
		{"empty object", "{}", true, ""},
		{"null", "null", true, ""},
		{"full", `{"ErrorMessage":"bad","ErrorType":"Err","ErrorData":"d","StackTrace":["a","b"]}`, false, ""},
		{"empty strings kept", `{"ErrorMessage":""}`, false, ""},
		{"malformed", `{"ErrorMessage":`, true, "InvalidParameterValueException"},
		{"wrong type", `{"StackTrace":"a"}`, true, "InvalidParameterValueException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := parseErrorObject([]byte(tt.body))
			wantErr(t, err, tt.shape, "")
			if (e == nil) != tt.wantNil {
				t.Fatalf("got %+v, wantNil %v", e, tt.wantNil)
			}
		})
	}
	e, _ := parseErrorObject([]byte(`{"ErrorMessage":"bad","ErrorType":"Err","StackTrace":["a","b"]}`))
	if *e.ErrorMessage != "bad" || *e.ErrorType != "Err" || e.ErrorData != nil || len(e.StackTrace) != 2 {
		t.Fatalf("decoded %+v", e)
	}
}

func TestParseCallbackResult(t *testing.T) {
	got, err := parseCallbackResult([]byte(`"abc"`), false)
	wantErr(t, err, "", "")
	if string(got) != `"abc"` {
		t.Fatalf("result %q: the body must pass byte for byte", got)
	}
	got, err = parseCallbackResult(nil, false)
	wantErr(t, err, "", "")
	if got != nil {
		t.Fatalf("empty body gave %q, want nil (no Result)", got)
	}
	_, err = parseCallbackResult(nil, true)
	wantErr(t, err, "InvalidParameterValueException",
		"1 validation error detected: Value at 'result' failed to satisfy constraint: Member must have length less than or equal to 1048576")
}

func TestParseCallbackIDLabel(t *testing.T) {
	_, err := parseCallbackIDLabel(validCallback)
	wantErr(t, err, "", "")
	_, err = parseCallbackIDLabel("a===")
	wantErr(t, err, "InvalidParameterValueException", "Value 'a===' at 'callbackId'")
	_, err = parseCallbackIDLabel(strings.Repeat("A", 1025))
	wantErr(t, err, "InvalidParameterValueException", "Member must have length less than or equal to 1024")
}

func TestParseInvoke(t *testing.T) {
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	t.Run("defaults", func(t *testing.T) {
		req, err := parseInvoke("my-func", mustQuery(t, "Qualifier=%24LATEST"), hdr())
		wantErr(t, err, "", "")
		if req.invocationType != "RequestResponse" || req.payloadLimit != 6291456 || req.start.Qualifier != "$LATEST" ||
			req.start.FunctionName != "my-func" || req.start.Name != "" {
			t.Fatalf("got %+v", req)
		}
	})
	t.Run("event with everything", func(t *testing.T) {
		req, err := parseInvoke("my-func:1", mustQuery(t, ""), hdr(
			"X-Amz-Invocation-Type", "Event", "X-Amz-Durable-Execution-Name", "order-42",
			"X-Amz-Tenant-Id", "tenant-1", "X-Amzn-Trace-Id", "Root=1-abc", "X-Amz-Log-Type", "Tail",
			"X-Amz-Client-Context", "eyJhIjoxfQ=="))
		wantErr(t, err, "", "")
		if req.invocationType != "Event" || req.payloadLimit != 1048576 || req.start.Name != "order-42" ||
			req.start.TenantID != "tenant-1" || req.start.TraceID != "Root=1-abc" {
			t.Fatalf("got %+v", req)
		}
	})
	tests := []struct {
		name, fn, query string
		h               http.Header
		shape, contains string
	}{
		{"dry run", "f", "", hdr("X-Amz-Invocation-Type", "DryRun"), "", ""},
		{"bad type", "f", "", hdr("X-Amz-Invocation-Type", "Async"), "InvalidParameterValueException", "'invocationType'"},
		{"bad log type", "f", "", hdr("X-Amz-Log-Type", "All"), "InvalidParameterValueException", "'logType'"},
		{"bad name", "f", "", hdr("X-Amz-Durable-Execution-Name", "a b"), "InvalidParameterValueException", "'durableExecutionName'"},
		{"long name", "f", "", hdr("X-Amz-Durable-Execution-Name", strings.Repeat("a", 65)), "InvalidParameterValueException", "'durableExecutionName'"},
		{"bad tenant", "f", "", hdr("X-Amz-Tenant-Id", "a#b"), "InvalidParameterValueException", "'tenantId'"},
		{"bad qualifier", "f", "Qualifier=a.b", hdr(), "InvalidParameterValueException", "'qualifier'"},
		{"empty qualifier", "f", "Qualifier=", hdr(), "InvalidParameterValueException", "'qualifier'"},
		{"bad function", "f/g", "", hdr(), "InvalidParameterValueException", "'functionName'"},
		{"client context not base64", "f", "", hdr("X-Amz-Client-Context", "{not base64}"), "InvalidRequestContentException", "Base64"},
		{"client context too long", "f", "", hdr("X-Amz-Client-Context", strings.Repeat("A", 3584)), "InvalidRequestContentException", "3583"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseInvoke(tt.fn, mustQuery(t, tt.query), tt.h)
			wantErr(t, err, tt.shape, tt.contains)
		})
	}
}

func TestCheckInvokePayload(t *testing.T) {
	for _, ok := range []string{"", `{"a":1}`, "null", `"x"`, "[1]", " 1 "} {
		wantErr(t, checkInvokePayload([]byte(ok)), "", "")
	}
	for _, bad := range []string{"{", "hello", `{"a":1} x`} {
		wantErr(t, checkInvokePayload([]byte(bad)), "InvalidRequestContentException", "Could not parse request body into json")
	}
}

func TestFunctionErrorFrom(t *testing.T) {
	b, err := marshalJSON(functionErrorFrom(&engine.ErrorObject{
		ErrorType: ptr("Error"), ErrorMessage: ptr("boom"), ErrorData: ptr("d"), StackTrace: []string{"at a", "at b"},
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"errorType":"Error","errorMessage":"boom","stackTrace":["at a","at b"]}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	b, _ = marshalJSON(functionErrorFrom(&engine.ErrorObject{ErrorMessage: ptr("only")}))
	if got, want := string(b), `{"errorMessage":"only"}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	b, _ = marshalJSON(functionErrorFrom(nil))
	if got, want := string(b), `{}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestParseCreateFunction(t *testing.T) {
	t.Run("valid", func(t *testing.T) {
		in, err := parseCreateFunction([]byte(`{"FunctionName":"my-func","Runtime":"nodejs24.x","Role":"arn:aws:iam::123456789012:role/r",
			"Handler":"index.handler","Code":{"ZipFile":"UEsDBA=="},"Timeout":900,"MemorySize":512,"Architectures":["arm64"],
			"Environment":{"Variables":{"FOO_BAR":"1"}},"DurableConfig":{"ExecutionTimeout":3600,"RetentionPeriodInDays":14},"Tags":{"a":"b"}}`))
		wantErr(t, err, "", "")
		if in.FunctionName != "my-func" || string(in.Code.ZipFile) != "PK\x03\x04" || *in.DurableConfig.ExecutionTimeout != 3600 {
			t.Fatalf("got %+v", in)
		}
	})
	tests := []struct {
		name, body      string
		shape, contains string
	}{
		{"minimal", `{"FunctionName":"f"}`, "", ""},
		{"missing name", `{}`, "InvalidParameterValueException", "Value null at 'functionName'"},
		{"dotted name", `{"FunctionName":"a.b"}`, "InvalidParameterValueException", "'functionName'"},
		{"malformed", `{"FunctionName":`, "InvalidParameterValueException", "Could not parse request body into json"},
		{"bad zip base64", `{"FunctionName":"f","Code":{"ZipFile":"!!"}}`, "InvalidParameterValueException", "Could not parse request body into json"},
		{"timeout 0", `{"FunctionName":"f","Timeout":0}`, "InvalidParameterValueException", "Value '0' at 'timeout'"},
		{"timeout max", `{"FunctionName":"f","Timeout":5400}`, "", ""},
		{"timeout over", `{"FunctionName":"f","Timeout":5401}`, "InvalidParameterValueException", "less than or equal to 5400"},
		{"memory low", `{"FunctionName":"f","MemorySize":127}`, "InvalidParameterValueException", "'memorySize'"},
		{"memory high", `{"FunctionName":"f","MemorySize":32769}`, "InvalidParameterValueException", "'memorySize'"},
		{"role", `{"FunctionName":"f","Role":"x"}`, "InvalidParameterValueException", "'role'"},
		{"handler", `{"FunctionName":"f","Handler":"a b"}`, "InvalidParameterValueException", "'handler'"},
		{"description", `{"FunctionName":"f","Description":"` + strings.Repeat("d", 257) + `"}`, "InvalidParameterValueException", "'description'"},
		{"package type", `{"FunctionName":"f","PackageType":"Jar"}`, "InvalidParameterValueException", "'packageType'"},
		{"architectures two", `{"FunctionName":"f","Architectures":["arm64","x86_64"]}`, "InvalidParameterValueException", "'architectures'"},
		{"architectures bad", `{"FunctionName":"f","Architectures":["riscv"]}`, "InvalidParameterValueException", "'architectures'"},
		{"env name", `{"FunctionName":"f","Environment":{"Variables":{"1X":"secret"}}}`, "InvalidParameterValueException",
			"Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint"},
		{"execution timeout 0", `{"FunctionName":"f","DurableConfig":{"ExecutionTimeout":0}}`, "InvalidParameterValueException",
			"'durableConfig.executionTimeout'"},
		{"execution timeout over", `{"FunctionName":"f","DurableConfig":{"ExecutionTimeout":31622401}}`, "InvalidParameterValueException",
			"'durableConfig.executionTimeout'"},
		{"retention over", `{"FunctionName":"f","DurableConfig":{"RetentionPeriodInDays":91}}`, "InvalidParameterValueException",
			"'durableConfig.retentionPeriodInDays'"},
		{"retention 0", `{"FunctionName":"f","DurableConfig":{"RetentionPeriodInDays":0}}`, "InvalidParameterValueException",
			"'durableConfig.retentionPeriodInDays'"},
		{"kms", `{"FunctionName":"f","DurableConfig":{"KMSKeyArn":"key"}}`, "InvalidParameterValueException", "'durableConfig.kMSKeyArn'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseCreateFunction([]byte(tt.body))
			wantErr(t, err, tt.shape, tt.contains)
		})
	}
	t.Run("env values never echoed", func(t *testing.T) {
		_, err := parseCreateFunction([]byte(`{"FunctionName":"f","Environment":{"Variables":{"X":"hunter2"}}}`))
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Fatalf("got %v", err)
		}
	})
}

func TestParseUpdateFunctionConfiguration(t *testing.T) {
	in, err := parseUpdateFunctionConfiguration([]byte(`{"Timeout":30,"DurableConfig":{"ExecutionTimeout":60}}`))
	wantErr(t, err, "", "")
	if *in.Timeout != 30 || in.MemorySize != nil || *in.DurableConfig.ExecutionTimeout != 60 {
		t.Fatalf("got %+v", in)
	}
	_, err = parseUpdateFunctionConfiguration(nil)
	wantErr(t, err, "", "")
	_, err = parseUpdateFunctionConfiguration([]byte(`{"Timeout":0,"MemorySize":1}`))
	wantErr(t, err, "InvalidParameterValueException", "2 validation errors detected")
	_, err = parseUpdateFunctionConfiguration([]byte(`{"DurableConfig":{"RetentionPeriodInDays":100}}`))
	wantErr(t, err, "InvalidParameterValueException", "'durableConfig.retentionPeriodInDays'")
}

func TestParsePublishVersion(t *testing.T) {
	d, err := parsePublishVersion([]byte(`{"Description":"first","CodeSha256":"x"}`))
	wantErr(t, err, "", "")
	if d != "first" {
		t.Fatalf("description %q", d)
	}
	d, err = parsePublishVersion(nil)
	wantErr(t, err, "", "")
	if d != "" {
		t.Fatalf("description %q", d)
	}
	_, err = parsePublishVersion([]byte(`{"Description":"` + strings.Repeat("d", 257) + `"}`))
	wantErr(t, err, "InvalidParameterValueException", "'description'")
	_, err = parsePublishVersion([]byte(`{"PublishTo":"SOMEWHERE"}`))
	wantErr(t, err, "InvalidParameterValueException", "'publishTo'")
}

func TestParseListParams(t *testing.T) {
	tests := []struct {
		query           string
		want            listParams
		shape, contains string
	}{
		{"", listParams{}, "", ""},
		{"Marker=m&MaxItems=50", listParams{marker: "m", maxItems: 50}, "", ""},
		{"MaxItems=10000", listParams{maxItems: 10000}, "", ""},
		{"MaxItems=0", listParams{}, "InvalidParameterValueException", "greater than or equal to 1"},
		{"MaxItems=10001", listParams{}, "InvalidParameterValueException", "less than or equal to 10000"},
		{"FunctionVersion=ALL", listParams{}, "", ""},
		{"FunctionVersion=SOME", listParams{}, "InvalidParameterValueException", "'functionVersion'"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got, err := parseListParams(mustQuery(t, tt.query))
			wantErr(t, err, tt.shape, tt.contains)
			if err == nil && got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestFunctionNameLabels(t *testing.T) {
	q, err := parseFunctionNameLabel("arn:aws:lambda:us-east-1:123456789012:function:my.func:7", mustQuery(t, "Qualifier=7"))
	wantErr(t, err, "", "")
	if q != "7" {
		t.Fatalf("qualifier %q", q)
	}
	_, err = parseStrictFunctionNameLabel("my.func", mustQuery(t, ""))
	wantErr(t, err, "InvalidParameterValueException", "'functionName'")
	_, err = parseStrictFunctionNameLabel(strings.Repeat("f", 141), mustQuery(t, ""))
	wantErr(t, err, "InvalidParameterValueException", "less than or equal to 140")
}

func TestCanonicalPath(t *testing.T) {
	tests := map[string]bool{
		"/health":                              true,
		"/2015-03-31/functions/":               true,
		"/2025-12-01/durable-executions/a%2Fb": true,
		"/a//b":                                false,
		"/a/./b":                               false,
		"/a/../b":                              false,
		"":                                     false,
		"*":                                    false,
		"/":                                    true,
		"/a/b/":                                true,
		"/a.b/..c/...":                         true,
		"//":                                   false,
		"/.":                                   false,
		"/..":                                  false,
		"/a/.":                                 false,
		"/a/b/..":                              false,
		"/a/./":                                false,
		"/a//":                                 false,
	}
	for p, want := range tests {
		if got := canonicalPath(p); got != want {
			t.Errorf("canonicalPath(%q) = %v, want %v", p, got, want)
		}
	}
}

// TestCanonicalPathAgreesWithClean holds the segment scan to the
// definition it replaced: p is canonical when path.Clean leaves it as it is
// (keeping a trailing slash).
func TestCanonicalPathAgreesWithClean(t *testing.T) {
	clean := func(p string) bool {
		if p == "" || p[0] != '/' {
			return false
		}
		c := path.Clean(p)
		if strings.HasSuffix(p, "/") && c != "/" {
			c += "/"
		}
		return c == p
	}
	parts := []string{"/", "a", ".", "..", "%2F", "b.c"}
	var gen func(prefix string, depth int)
	gen = func(prefix string, depth int) {
		if got, want := canonicalPath(prefix), clean(prefix); got != want {
			t.Errorf("canonicalPath(%q) = %v, path.Clean says %v", prefix, got, want)
		}
		if depth == 0 {
			return
		}
		for _, p := range parts {
			gen(prefix+p, depth-1)
		}
	}
	gen("/", 5)
}

func ptr[T any](v T) *T { return &v }
