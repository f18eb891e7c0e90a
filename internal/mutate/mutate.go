// Package mutate makes near-misses of valid inputs, for the tests that hold
// a hand-written parser or matcher to the reference it replaces (a regular
// expression, net/url): most bugs in such code show on inputs one or two
// edits away from a valid one.
package mutate

import "math/rand/v2"

// Near returns n strings, each one of seeds (taken in turn at random) with
// 1 to maxEdits random edits: a byte replaced, deleted or inserted, the
// bytes put in taken from alphabet.
func Near(rng *rand.Rand, seeds []string, alphabet string, n, maxEdits int) []string {
	out := make([]string, 0, n)
	for range n {
		b := []byte(seeds[rng.IntN(len(seeds))])
		for range 1 + rng.IntN(maxEdits) {
			c := alphabet[rng.IntN(len(alphabet))]
			switch op := rng.IntN(3); {
			case op == 0 && len(b) > 0:
				b[rng.IntN(len(b))] = c
			case op == 1 && len(b) > 0:
				i := rng.IntN(len(b))
				b = append(b[:i], b[i+1:]...)
			default:
				i := rng.IntN(len(b) + 1)
				b = append(b[:i], append([]byte{c}, b[i:]...)...)
			}
		}
		out = append(out, string(b))
	}
	return out
}
