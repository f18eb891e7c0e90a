package api

import (
	"math/rand/v2"
	"testing"

	"github.com/duro-run/duro/internal/mutate"
)

// TestFastMatchersAgreeWithPatterns checks that every rule's fast matcher
// accepts exactly what its regular expression accepts, on valid samples and
// on random strings over an alphabet that straddles every class.
func TestFastMatchersAgreeWithPatterns(t *testing.T) {
	rules := map[string]stringRule{
		"DurableExecutionArn": ruleDurableExecutionArn, "DurableExecutionName": ruleDurableExecutionName,
		"CheckpointToken": ruleCheckpointToken, "CallbackID": ruleCallbackID, "ClientToken": ruleClientToken,
		"OperationID": ruleOperationID, "OperationName": ruleOperationName, "OperationSubType": ruleOperationSubType,
		"TenantID": ruleTenantID, "NamespacedFunctionName": ruleNamespacedFunctionName, "FunctionName": ruleFunctionName,
		"Qualifier": ruleQualifier, "RoleArn": ruleRoleArn, "Handler": ruleHandler, "KMSKeyArn": ruleKMSKeyArn,
		"EnvVarName": ruleEnvVarName,
	}
	samples := []string{
		"", "a", "=", "ab==", "ab===", "QUJD", "QUJD+/x=", "a b", "a\tb", "é", "a-b_c", "$LATEST", "$LATEST.PUBLISHED",
		"arn:aws:lambda:us-east-1:123456789012:function:fn:$LATEST/durable-execution/n/0196-ab",
		"arn:aws:lambda:us-east-1:123456789012:function:fn:7/durable-execution/n/id",
		"arn:aws:lambda:us-east-1:123456789012:function:fn", "fn:3", "123456789012:function:fn", "us-east-1:fn",
		"arn:aws:iam::123456789012:role/x", "tenant@x.com/a=b", "\x7f", "~!", "x\x00",
	}
	alphabet := []rune("aZ09-_=+/.:$@ \t~!é\x7f\x00[]")
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		n := rng.IntN(8)
		b := make([]rune, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		samples = append(samples, string(b))
	}
	// Near-misses of an execution ARN, for its hand-written matcher.
	samples = append(samples, mutate.Near(rng, []string{"arn:aws:lambda:us-east-1:123456789012:function:fn-1_x:$LATEST/durable-execution/name_1/0196-ab"},
		"aZ09-_:/$.é", 5000, 2)...)
	for name, r := range rules {
		if r.re == nil {
			continue
		}
		for range 2 { // the second round hits the memo
			for _, v := range samples {
				if got, want := r.matches(v), r.re.MatchString(v); got != want {
					t.Fatalf("%s: matches(%q) = %v, pattern says %v", name, v, got, want)
				}
			}
		}
	}
}
