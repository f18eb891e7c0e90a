package api

import (
	"github.com/duro-run/duro/internal/engine"
	"github.com/duro-run/duro/internal/fastjson"
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
	d := fastjson.NewDecoder(body)
	d.Object(func(key string) bool {
		switch key {
		case "CheckpointToken":
			req.CheckpointToken = d.StrPtr()
		case "ClientToken":
			req.ClientToken = d.StrPtr()
		case "Updates":
			if d.Null() {
				return true
			}
			req.Updates = []engine.OperationUpdate{}
			d.Array(func() bool {
				var u engine.OperationUpdate
				decodeUpdate(d, &u)
				req.Updates = append(req.Updates, u)
				return !d.Failed()
			})
		default:
			return false
		}
		return !d.Failed()
	})
	if !d.End() {
		return checkpointRequest{}, false
	}
	return req, true
}

// decodeUpdate reads one OperationUpdate.
func decodeUpdate(d *fastjson.Decoder, u *engine.OperationUpdate) {
	d.Object(func(key string) bool {
		switch key {
		case "Id":
			d.NullableStr(&u.Id)
		case "ParentId":
			u.ParentId = d.StrPtr()
		case "Name":
			u.Name = d.StrPtr()
		case "Type":
			d.NullableStr(&u.Type)
		case "SubType":
			u.SubType = d.StrPtr()
		case "Action":
			d.NullableStr(&u.Action)
		case "Payload":
			u.Payload = d.StrPtr()
		case "Error":
			if !d.Null() {
				u.Error = decodeErrorObject(d)
			}
		case "ContextOptions":
			if !d.Null() {
				o := &engine.ContextOptions{}
				d.Object(func(k string) bool {
					if k != "ReplayChildren" {
						return false
					}
					o.ReplayChildren = d.BoolPtr()
					return !d.Failed()
				})
				u.ContextOptions = o
			}
		case "StepOptions":
			if !d.Null() {
				o := &engine.StepOptions{}
				d.Object(func(k string) bool {
					if k != "NextAttemptDelaySeconds" {
						return false
					}
					o.NextAttemptDelaySeconds = d.Int32Ptr()
					return !d.Failed()
				})
				u.StepOptions = o
			}
		case "WaitOptions":
			if !d.Null() {
				o := &engine.WaitOptions{}
				d.Object(func(k string) bool {
					if k != "WaitSeconds" {
						return false
					}
					o.WaitSeconds = d.Int32Ptr()
					return !d.Failed()
				})
				u.WaitOptions = o
			}
		case "CallbackOptions":
			if !d.Null() {
				o := &engine.CallbackOptions{}
				d.Object(func(k string) bool {
					switch k {
					case "TimeoutSeconds":
						o.TimeoutSeconds = d.Int32Ptr()
					case "HeartbeatTimeoutSeconds":
						o.HeartbeatTimeoutSeconds = d.Int32Ptr()
					default:
						return false
					}
					return !d.Failed()
				})
				u.CallbackOptions = o
			}
		case "ChainedInvokeOptions":
			if !d.Null() {
				o := &engine.ChainedInvokeOptions{}
				d.Object(func(k string) bool {
					switch k {
					case "FunctionName":
						d.NullableStr(&o.FunctionName)
					case "TenantId":
						o.TenantId = d.StrPtr()
					case "XAmznTraceId":
						o.XAmznTraceId = d.StrPtr()
					default:
						return false
					}
					return !d.Failed()
				})
				u.ChainedInvokeOptions = o
			}
		default:
			return false
		}
		return !d.Failed()
	})
}

// decodeErrorObject reads an ErrorObject.
func decodeErrorObject(d *fastjson.Decoder) *engine.ErrorObject {
	e := &engine.ErrorObject{}
	d.Object(func(k string) bool {
		switch k {
		case "ErrorMessage":
			e.ErrorMessage = d.StrPtr()
		case "ErrorType":
			e.ErrorType = d.StrPtr()
		case "ErrorData":
			e.ErrorData = d.StrPtr()
		case "StackTrace":
			if d.Null() {
				return true
			}
			e.StackTrace = []string{}
			d.Array(func() bool {
				if d.Peek() == 'n' {
					return false // a null element: left to encoding/json
				}
				e.StackTrace = append(e.StackTrace, d.Str())
				return !d.Failed()
			})
		default:
			return false
		}
		return !d.Failed()
	})
	return e
}
