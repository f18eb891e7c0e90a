// Package uuid makes and formats the UUIDs Duro hands out: request ids,
// client tokens and execution ids.
package uuid

import "crypto/rand"

// New returns a random (version 4) UUID.
func New() string {
	var b [16]byte
	// crypto/rand.Read never fails: it crashes the program instead.
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return Format(b)
}

// Format returns b in the canonical form, 36 characters of lower-case hex
// in groups of 8, 4, 4, 4 and 12. The version and variant bits are the
// caller's to set.
func Format(b [16]byte) string {
	const hexdigits = "0123456789abcdef"
	var out [36]byte
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hexdigits[c>>4], hexdigits[c&0xf]
		j += 2
	}
	return string(out[:])
}
