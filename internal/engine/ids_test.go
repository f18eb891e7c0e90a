package engine

import (
	"crypto/sha256"
	"fmt"
	"regexp"
	"testing"
	"time"
)

func TestExecutionIDsAreTimeOrderedUUIDs(t *testing.T) {
	uuid7 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	base := time.UnixMilli(1_764_000_000_000)
	prev := ""
	for i := range 100 {
		id := newExecutionID(base.Add(time.Duration(i) * time.Millisecond))
		if !uuid7.MatchString(id) {
			t.Fatalf("newExecutionID = %q, not a UUID v7", id)
		}
		if id <= prev {
			t.Fatalf("id %q for a later millisecond sorts before %q", id, prev)
		}
		prev = id
	}
}

// TestChildExecutionIDIsStable pins the derivation of chained-invoke
// target ids: a retried start after a restart must find the same id.
func TestChildExecutionIDIsStable(t *testing.T) {
	sum := sha256.Sum256([]byte("caller-id/op-1"))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	want := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
	if got := childExecutionID("caller-id", "op-1"); got != want {
		t.Fatalf("childExecutionID = %q, want %q", got, want)
	}
}
