package api

import (
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
	var seen uint8
	d.object(func(key string) bool {
		switch key {
		case "CheckpointToken":
			req.CheckpointToken = d.strPtr()
			return d.once(&seen, 1)
		case "ClientToken":
			req.ClientToken = d.strPtr()
			return d.once(&seen, 2)
		case "Updates":
			if d.null() {
				return d.once(&seen, 4)
			}
			req.Updates = []engine.OperationUpdate{}
			d.array(func() bool {
				var u engine.OperationUpdate
				d.update(&u)
				req.Updates = append(req.Updates, u)
				return !d.failed
			})
			return d.once(&seen, 4)
		}
		return false
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

// once marks bit in seen, failing if it was already set: a repeated member
// is left to encoding/json.
func (d *fastDecoder) once(seen *uint8, bit uint8) bool {
	if *seen&bit != 0 {
		d.failed = true
	}
	*seen |= bit
	return !d.failed
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
// at its value; member returns false to give up. A member name with an
// escape is given up on.
func (d *fastDecoder) object(member func(key string) bool) {
	if !d.expect('{') {
		return
	}
	if d.peek() == '}' {
		d.i++
		return
	}
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
	var seen uint16
	once := func(bit uint16) bool {
		if seen&bit != 0 {
			d.failed = true
		}
		seen |= bit
		return !d.failed
	}
	d.object(func(key string) bool {
		switch key {
		case "Id":
			if !d.null() {
				u.Id = d.str()
			}
			return once(1 << 0)
		case "ParentId":
			u.ParentId = d.strPtr()
			return once(1 << 1)
		case "Name":
			u.Name = d.strPtr()
			return once(1 << 2)
		case "Type":
			if !d.null() {
				u.Type = d.str()
			}
			return once(1 << 3)
		case "SubType":
			u.SubType = d.strPtr()
			return once(1 << 4)
		case "Action":
			if !d.null() {
				u.Action = d.str()
			}
			return once(1 << 5)
		case "Payload":
			u.Payload = d.strPtr()
			return once(1 << 6)
		case "Error":
			if !d.null() {
				u.Error = d.errorObject()
			}
			return once(1 << 7)
		case "ContextOptions":
			if !d.null() {
				o := &engine.ContextOptions{}
				d.members(func(k string) bool {
					if k == "ReplayChildren" {
						o.ReplayChildren = d.boolPtr()
						return true
					}
					return false
				}, 1)
				u.ContextOptions = o
			}
			return once(1 << 8)
		case "StepOptions":
			if !d.null() {
				o := &engine.StepOptions{}
				d.members(func(k string) bool {
					if k == "NextAttemptDelaySeconds" {
						o.NextAttemptDelaySeconds = d.int32Ptr()
						return true
					}
					return false
				}, 1)
				u.StepOptions = o
			}
			return once(1 << 9)
		case "WaitOptions":
			if !d.null() {
				o := &engine.WaitOptions{}
				d.members(func(k string) bool {
					if k == "WaitSeconds" {
						o.WaitSeconds = d.int32Ptr()
						return true
					}
					return false
				}, 1)
				u.WaitOptions = o
			}
			return once(1 << 10)
		case "CallbackOptions":
			if !d.null() {
				o := &engine.CallbackOptions{}
				d.members(func(k string) bool {
					switch k {
					case "TimeoutSeconds":
						o.TimeoutSeconds = d.int32Ptr()
					case "HeartbeatTimeoutSeconds":
						o.HeartbeatTimeoutSeconds = d.int32Ptr()
					default:
						return false
					}
					return true
				}, 2)
				u.CallbackOptions = o
			}
			return once(1 << 11)
		case "ChainedInvokeOptions":
			if !d.null() {
				o := &engine.ChainedInvokeOptions{}
				d.members(func(k string) bool {
					switch k {
					case "FunctionName":
						if !d.null() {
							o.FunctionName = d.str()
						}
					case "TenantId":
						o.TenantId = d.strPtr()
					case "XAmznTraceId":
						o.XAmznTraceId = d.strPtr()
					default:
						return false
					}
					return true
				}, 3)
				u.ChainedInvokeOptions = o
			}
			return once(1 << 12)
		}
		return false
	})
}

// members reads an object of at most max distinct members, each read by
// member; a repeated member is given up on.
func (d *fastDecoder) members(member func(key string) bool, max int) {
	seen := make(map[string]bool, max)
	d.object(func(key string) bool {
		if seen[key] {
			return false
		}
		seen[key] = true
		return member(key)
	})
}

// errorObject reads an ErrorObject.
func (d *fastDecoder) errorObject() *engine.ErrorObject {
	e := &engine.ErrorObject{}
	d.members(func(k string) bool {
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
	}, 4)
	return e
}
