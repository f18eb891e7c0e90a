// Package fastjson reads JSON documents of a known shape without
// encoding/json's reflection, for the hot paths that decode one such
// document per request (the server's checkpoint requests, the load
// generator's checkpoint responses), and writes the strings of the
// encoders written by hand for the same paths (AppendString). A Decoder takes only what it can read
// exactly as encoding/json would; on anything else (a syntax error, a
// repeated member, a string with a surrogate escape or invalid UTF-8, a
// number that does not fit) it gives up, and its caller decodes the
// document with encoding/json instead, which also words the errors.
package fastjson

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Decoder reads JSON values from b at i; failed records that it gave up.
// Its zero value reads nothing; NewDecoder starts it on a document.
type Decoder struct {
	b      []byte
	i      int
	failed bool
}

// NewDecoder returns a Decoder positioned at the start of b.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Failed reports whether the decoder has given up.
func (d *Decoder) Failed() bool { return d.failed }

// End reports whether the whole document was read without giving up:
// nothing but blanks after the value.
func (d *Decoder) End() bool {
	d.ws()
	return !d.failed && d.i == len(d.b)
}

// ws skips blanks.
func (d *Decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// Peek returns the next non-blank byte (0 at the end).
func (d *Decoder) Peek() byte {
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// expect consumes c, or gives up.
func (d *Decoder) expect(c byte) bool {
	if d.failed || d.Peek() != c {
		d.failed = true
		return false
	}
	d.i++
	return true
}

// Literal consumes word (null, true, false) if it comes next.
func (d *Decoder) Literal(word string) bool {
	if d.failed || d.Peek() != word[0] {
		return false
	}
	if len(d.b)-d.i < len(word) || string(d.b[d.i:d.i+len(word)]) != word {
		d.failed = true
		return false
	}
	d.i += len(word)
	return true
}

// Null consumes null if it comes next.
func (d *Decoder) Null() bool { return d.Literal("null") }

// Object reads an object, calling member with each member name positioned
// at its value; member returns false to give up (a name it does not know).
// A member name with an escape, or one seen before in the object (which
// encoding/json would merge or override), is given up on.
func (d *Decoder) Object(member func(key string) bool) {
	if !d.expect('{') {
		return
	}
	if d.Peek() == '}' {
		d.i++
		return
	}
	var names [16]string // the known members of any object here are fewer
	seen := names[:0]
	for !d.failed {
		if d.Peek() != '"' {
			d.failed = true
			return
		}
		start := d.i + 1
		end := start
		for end < len(d.b) && d.b[end] != '"' && d.b[end] != '\\' && d.b[end] >= 0x20 {
			end++
		}
		if end >= len(d.b) || d.b[end] != '"' {
			d.failed = true
			return
		}
		key := string(d.b[start:end])
		if slices.Contains(seen, key) || len(seen) == cap(seen) {
			d.failed = true
			return
		}
		seen = append(seen, key)
		d.i = end + 1
		if !d.expect(':') || !member(key) {
			d.failed = true
			return
		}
		switch d.Peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return
		default:
			d.failed = true
		}
	}
}

// Array reads an array, calling elem positioned at each element.
func (d *Decoder) Array(elem func() bool) {
	if !d.expect('[') {
		return
	}
	if d.Peek() == ']' {
		d.i++
		return
	}
	for !d.failed {
		if !elem() {
			d.failed = true
			return
		}
		switch d.Peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return
		default:
			d.failed = true
		}
	}
}

// Str reads a string.
func (d *Decoder) Str() string {
	if !d.expect('"') {
		return ""
	}
	start := d.i
	ascii := true
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			s := d.b[start:d.i]
			d.i++
			if !ascii && !utf8.Valid(s) {
				d.failed = true // encoding/json replaces invalid bytes
				return ""
			}
			return string(s)
		case c == '\\':
			return d.escapedStr(start)
		case c < 0x20:
			d.failed = true
			return ""
		case c >= utf8.RuneSelf:
			ascii = false
		}
		d.i++
	}
	d.failed = true
	return ""
}

// escapedStr finishes a string that has escapes, from its first byte at
// start; d.i is at the first backslash.
//
// The result is built in one allocation: no escape unescapes to more bytes
// than it takes (\uXXXX is at most three bytes of UTF-8), so the string's
// raw length, up to its closing quote, bounds it.
func (d *Decoder) escapedStr(start int) string {
	end := d.i
	for end < len(d.b) && d.b[end] != '"' {
		if d.b[end] == '\\' {
			end++
		}
		end++
	}
	var out strings.Builder
	out.Grow(min(end, len(d.b)) - start)
	runStart := start
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			if !d.appendRun(&out, runStart) {
				return ""
			}
			d.i++
			return out.String()
		case c == '\\':
			if !d.appendRun(&out, runStart) || d.i+1 >= len(d.b) {
				d.failed = true
				return ""
			}
			switch e := d.b[d.i+1]; e {
			case '"', '\\', '/':
				out.WriteByte(e)
			case 'b':
				out.WriteByte('\b')
			case 'f':
				out.WriteByte('\f')
			case 'n':
				out.WriteByte('\n')
			case 'r':
				out.WriteByte('\r')
			case 't':
				out.WriteByte('\t')
			case 'u':
				if d.i+6 > len(d.b) {
					d.failed = true
					return ""
				}
				r, err := strconv.ParseUint(string(d.b[d.i+2:d.i+6]), 16, 32)
				if err != nil || (r >= 0xd800 && r < 0xe000) {
					d.failed = true // surrogates are left to encoding/json
					return ""
				}
				out.WriteRune(rune(r))
				d.i += 4
			default:
				d.failed = true
				return ""
			}
			d.i += 2
			runStart = d.i
			continue
		case c < 0x20:
			d.failed = true
			return ""
		}
		d.i++
	}
	d.failed = true
	return ""
}

// appendRun appends to out the bytes from runStart to d.i, which lie
// between escapes and must be valid UTF-8 (encoding/json replaces invalid
// bytes); it fails the decoder when they are not.
func (d *Decoder) appendRun(out *strings.Builder, runStart int) bool {
	r := d.b[runStart:d.i]
	if !utf8.Valid(r) {
		d.failed = true
		return false
	}
	out.Write(r)
	return true
}

// StrPtr reads a string or null.
func (d *Decoder) StrPtr() *string {
	if d.Null() {
		return nil
	}
	s := d.Str()
	return &s
}

// NullableStr reads a string into dst; null leaves dst as it is, as
// encoding/json does for a string field.
func (d *Decoder) NullableStr(dst *string) {
	if !d.Null() {
		*dst = d.Str()
	}
}

// Int32Ptr reads an integer that fits an int32, or null.
func (d *Decoder) Int32Ptr() *int32 {
	if d.Null() || d.failed {
		return nil
	}
	d.ws()
	start := d.i
	if d.i < len(d.b) && d.b[d.i] == '-' {
		d.i++
	}
	digits := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	if d.i == digits || (d.b[digits] == '0' && d.i-digits > 1) ||
		(d.i < len(d.b) && (d.b[d.i] == '.' || d.b[d.i] == 'e' || d.b[d.i] == 'E')) {
		d.failed = true
		return nil
	}
	n, err := strconv.ParseInt(string(d.b[start:d.i]), 10, 32)
	if err != nil {
		d.failed = true
		return nil
	}
	v := int32(n)
	return &v
}

// BoolPtr reads true, false or null.
func (d *Decoder) BoolPtr() *bool {
	switch {
	case d.Null():
		return nil
	case d.Literal("true"):
		v := true
		return &v
	case d.Literal("false"):
		v := false
		return &v
	}
	d.failed = true
	return nil
}

// maxSkipDepth bounds the nesting Skip follows; deeper documents are left
// to encoding/json.
const maxSkipDepth = 64

// Skip reads over one value of any kind, for a member its caller ignores.
func (d *Decoder) Skip() { d.skip(0) }

func (d *Decoder) skip(depth int) {
	if d.failed {
		return
	}
	if depth > maxSkipDepth {
		d.failed = true
		return
	}
	switch c := d.Peek(); {
	case c == '"':
		d.Str()
	case c == '{':
		d.Object(func(string) bool {
			d.skip(depth + 1)
			return !d.failed
		})
	case c == '[':
		d.Array(func() bool {
			d.skip(depth + 1)
			return !d.failed
		})
	case c == 't':
		d.Literal("true")
	case c == 'f':
		d.Literal("false")
	case c == 'n':
		d.Literal("null")
	default:
		d.number()
	}
}

// number reads a number as JSON writes it and returns its text.
func (d *Decoder) number() []byte {
	d.ws()
	start := d.i
	if d.i < len(d.b) && d.b[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i < len(d.b) && d.b[d.i] == '0':
		d.i++
	case d.i < len(d.b) && d.b[d.i] >= '1' && d.b[d.i] <= '9':
		d.digits()
	default:
		d.failed = true
		return nil
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if !d.digits() {
			d.failed = true
			return nil
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if !d.digits() {
			d.failed = true
			return nil
		}
	}
	return d.b[start:d.i]
}

// digits reads one or more decimal digits, reporting whether there was one.
func (d *Decoder) digits() bool {
	start := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	return d.i > start
}

// Float64Ptr reads a number, or null.
func (d *Decoder) Float64Ptr() *float64 {
	if d.Null() || d.failed {
		return nil
	}
	text := d.number()
	if d.failed {
		return nil
	}
	v, err := strconv.ParseFloat(string(text), 64)
	if err != nil {
		d.failed = true // out of range: encoding/json reports it
		return nil
	}
	return &v
}

// SkipUnknown reads over the value of a member its caller ignores, and
// reports whether it did: a name that matches one of known in another
// letter case is one encoding/json would take for that field, so the
// decoder gives up on it instead (false, for an Object member callback).
func (d *Decoder) SkipUnknown(key string, known ...string) bool {
	for _, name := range known {
		if strings.EqualFold(key, name) {
			return false
		}
	}
	d.Skip()
	return !d.failed
}
