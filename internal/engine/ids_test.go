package engine

import (
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
	if id := newID(); !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) {
		t.Fatalf("newID = %q, not a UUID v4", id)
	}
}
