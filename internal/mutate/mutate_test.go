package mutate

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestNear: every string is a seed at most maxEdits edits away (its length
// within maxEdits of the seed's), made of the seed's bytes and the
// alphabet's, and the edits vary.
func TestNear(t *testing.T) {
	seeds := []string{"abcdef", ""}
	const alphabet = "XY"
	got := Near(rand.New(rand.NewPCG(1, 2)), seeds, alphabet, 2000, 2)
	if len(got) != 2000 {
		t.Fatalf("%d strings, want 2000", len(got))
	}
	distinct := map[string]bool{}
	for _, s := range got {
		if len(s) > 6+2 {
			t.Fatalf("%q is more than 2 edits from any seed", s)
		}
		if strings.Trim(s, "abcdefXY") != "" {
			t.Fatalf("%q has bytes from neither the seeds nor the alphabet", s)
		}
		distinct[s] = true
	}
	if len(distinct) < 100 {
		t.Errorf("only %d distinct strings in 2000", len(distinct))
	}
}
