package engine

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/duro-run/duro/internal/mutate"
)

// TestParseExecutionArnMatchesPattern holds the hand-written parser to the
// regular expression it replaces.
func TestParseExecutionArnMatchesPattern(t *testing.T) {
	good := "arn:aws:lambda:us-east-1:123456789012:function:my-fn_1:$LATEST/durable-execution/name-1/019ab2c3-d4e5-7f60-8a1b-2c3d4e5f6a7b"
	samples := []string{good,
		strings.Replace(good, "$LATEST", "$LATEST.PUBLISHED", 1), strings.Replace(good, "$LATEST", "42", 1),
		strings.Replace(good, "$LATEST", "$LATEST.X", 1), strings.Replace(good, "$LATEST", "", 1),
		strings.Replace(good, "123456789012", "12345678901", 1), strings.Replace(good, "durable-execution", "durable-executions", 1),
		good + "/x", good + ":", "arn:aws:lambda:us-east-1:123456789012:function:fn", "", "arn:",
		strings.Replace(good, "name-1", "na.me", 1), strings.Replace(good, "us-east-1", "us_east", 1),
	}
	samples = append(samples, mutate.Near(rand.New(rand.NewPCG(3, 4)), []string{good}, "aZ09-_.:/$ é", 20000, 3)...)
	for _, arn := range samples {
		ref, err := parseExecutionArn(arn)
		m := executionArnRe.FindStringSubmatch(arn)
		if (err == nil) != (m != nil) {
			t.Fatalf("parseExecutionArn(%q) error %v, pattern match %v", arn, err, m != nil)
		}
		if m != nil && (ref != executionRef{Function: m[4], Version: m[5], Name: m[6], ID: m[7]}) {
			t.Fatalf("parseExecutionArn(%q) = %+v, pattern says %q", arn, ref, m[4:])
		}
	}
}
