package api

import (
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/duro-run/duro/internal/engine"
)

// decodeCheckpointFast decodes a CheckpointDurableExecution body, the
// request every step makes, without encoding/json's reflection (which was
// 5 % of the server's CPU under load). It takes only what it can decode
// exactly as encoding/json would: the members by their exact names, each at
// most once, strings without surrogate escapes or invalid UTF-8, integers
// that fit. Anything else (an unknown member, a name in another case, a
// repeated member, a syntax error...) makes it give up, and the caller
// decodes with encoding/json, which also words the errors.
// TestCheckpointFastDecoderAgrees and FuzzCheckpointFastDecoder check
// that whatever it accepts decodes to what encoding/json gives.
func decodeCheckpointFast(body []byte) (checkpointRequest, bool) {
	var req checkpointRequest
	d := fastDecoder{b: body}
	d.object(func(key string) bool {
		switch key {
		case "CheckpointToken":
			req.CheckpointToken = d.strPtr()
		case "ClientToken":
			req.ClientToken = d.strPtr()
		case "Updates":
			if d.null() {
				return true
			}
			req.Updates = []engine.OperationUpdate{}
			d.array(func() bool {
				var u engine.OperationUpdate
				d.update(&u)
				req.Updates = append(req.Updates, u)
				return !d.failed
			})
		default:
			return false
		}
		return !d.failed
	})
	d.ws()
	if d.failed || d.i != len(d.b) {
		return checkpointRequest{}, false
	}
	return req, true
}

// fastDecoder reads JSON values from b at i; failed records that it gave up.
type fastDecoder struct {
	b      []byte
	i      int
	failed bool
}

func (d *fastDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek returns the next non-blank byte (0 at the end).
func (d *fastDecoder) peek() byte {
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

func (d *fastDecoder) expect(c byte) bool {
	if d.failed || d.peek() != c {
		d.failed = true
		return false
	}
	d.i++
	return true
}

// literal consumes word (null, true, false) if it comes next.
func (d *fastDecoder) literal(word string) bool {
	if d.failed || d.peek() != word[0] {
		return false
	}
	if len(d.b)-d.i < len(word) || string(d.b[d.i:d.i+len(word)]) != word {
		d.failed = true
		return false
	}
	d.i += len(word)
	return true
}

func (d *fastDecoder) null() bool { return d.literal("null") }

// object reads an object, calling member with each member name positioned
// at its value; member returns false to give up (a name it does not know).
// A member name with an escape, or one seen before in the object (which
// encoding/json would merge or override), is given up on.
func (d *fastDecoder) object(member func(key string) bool) {
	if !d.expect('{') {
		return
	}
	if d.peek() == '}' {
		d.i++
		return
	}
	var names [16]string // the known members of any object here are fewer
	seen := names[:0]
	for !d.failed {
		if d.peek() != '"' {
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
		switch d.peek() {
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

// array reads an array, calling elem positioned at each element.
func (d *fastDecoder) array(elem func() bool) {
	if !d.expect('[') {
		return
	}
	if d.peek() == ']' {
		d.i++
		return
	}
	for !d.failed {
		if !elem() {
			d.failed = true
			return
		}
		switch d.peek() {
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

// str reads a string.
func (d *fastDecoder) str() string {
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
func (d *fastDecoder) escapedStr(start int) string {
	out := make([]byte, 0, d.i-start+64)
	runStart := start
	// run appends the bytes since the last escape, which must be valid
	// UTF-8 (encoding/json replaces invalid bytes).
	run := func() bool {
		r := d.b[runStart:d.i]
		out = append(out, r...)
		return utf8.Valid(r)
	}
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			if !run() {
				d.failed = true
				return ""
			}
			d.i++
			return string(out)
		case c == '\\':
			if !run() || d.i+1 >= len(d.b) {
				d.failed = true
				return ""
			}
			switch e := d.b[d.i+1]; e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
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
				out = utf8.AppendRune(out, rune(r))
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

// strPtr reads a string or null.
func (d *fastDecoder) strPtr() *string {
	if d.null() {
		return nil
	}
	s := d.str()
	return &s
}

// nullableStr reads a string into dst; null leaves dst as it is, as
// encoding/json does for a string field.
func (d *fastDecoder) nullableStr(dst *string) {
	if !d.null() {
		*dst = d.str()
	}
}

// int32Ptr reads an integer that fits an int32, or null.
func (d *fastDecoder) int32Ptr() *int32 {
	if d.null() || d.failed {
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

// boolPtr reads true, false or null.
func (d *fastDecoder) boolPtr() *bool {
	switch {
	case d.null():
		return nil
	case d.literal("true"):
		v := true
		return &v
	case d.literal("false"):
		v := false
		return &v
	}
	d.failed = true
	return nil
}

// update reads one OperationUpdate.
func (d *fastDecoder) update(u *engine.OperationUpdate) {
	d.object(func(key string) bool {
		switch key {
		case "Id":
			d.nullableStr(&u.Id)
		case "ParentId":
			u.ParentId = d.strPtr()
		case "Name":
			u.Name = d.strPtr()
		case "Type":
			d.nullableStr(&u.Type)
		case "SubType":
			u.SubType = d.strPtr()
		case "Action":
			d.nullableStr(&u.Action)
		case "Payload":
			u.Payload = d.strPtr()
		case "Error":
			if !d.null() {
				u.Error = d.errorObject()
			}
		case "ContextOptions":
			if !d.null() {
				o := &engine.ContextOptions{}
				d.object(func(k string) bool {
					if k != "ReplayChildren" {
						return false
					}
					o.ReplayChildren = d.boolPtr()
					return !d.failed
				})
				u.ContextOptions = o
			}
		case "StepOptions":
			if !d.null() {
				o := &engine.StepOptions{}
				d.object(func(k string) bool {
					if k != "NextAttemptDelaySeconds" {
						return false
					}
					o.NextAttemptDelaySeconds = d.int32Ptr()
					return !d.failed
				})
				u.StepOptions = o
			}
		case "WaitOptions":
			if !d.null() {
				o := &engine.WaitOptions{}
				d.object(func(k string) bool {
					if k != "WaitSeconds" {
						return false
					}
					o.WaitSeconds = d.int32Ptr()
					return !d.failed
				})
				u.WaitOptions = o
			}
		case "CallbackOptions":
			if !d.null() {
				o := &engine.CallbackOptions{}
				d.object(func(k string) bool {
					switch k {
					case "TimeoutSeconds":
						o.TimeoutSeconds = d.int32Ptr()
					case "HeartbeatTimeoutSeconds":
						o.HeartbeatTimeoutSeconds = d.int32Ptr()
					default:
						return false
					}
					return !d.failed
				})
				u.CallbackOptions = o
			}
		case "ChainedInvokeOptions":
			if !d.null() {
				o := &engine.ChainedInvokeOptions{}
				d.object(func(k string) bool {
					switch k {
					case "FunctionName":
						d.nullableStr(&o.FunctionName)
					case "TenantId":
						o.TenantId = d.strPtr()
					case "XAmznTraceId":
						o.XAmznTraceId = d.strPtr()
					default:
						return false
					}
					return !d.failed
				})
				u.ChainedInvokeOptions = o
			}
		default:
			return false
		}
		return !d.failed
	})
}

// errorObject reads an ErrorObject.
func (d *fastDecoder) errorObject() *engine.ErrorObject {
	e := &engine.ErrorObject{}
	d.object(func(k string) bool {
		switch k {
		case "ErrorMessage":
			e.ErrorMessage = d.strPtr()
		case "ErrorType":
			e.ErrorType = d.strPtr()
		case "ErrorData":
			e.ErrorData = d.strPtr()
		case "StackTrace":
			if d.null() {
				return true
			}
			e.StackTrace = []string{}
			d.array(func() bool {
				if d.peek() == 'n' {
					return false // a null element: left to encoding/json
				}
				e.StackTrace = append(e.StackTrace, d.str())
				return !d.failed
			})
		default:
			return false
		}
		return !d.failed
	})
	return e
}
