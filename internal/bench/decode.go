package bench

import (
	"encoding/json"
	"github.com/duro-run/duro/internal/fastjson"
)

// The load generator shares the machine with the server it measures, so it
// reads the documents it gets for every step (checkpoint responses,
// invocation envelopes) without encoding/json's reflection, which was
// 6.4 % of an open-loop run's CPU (bench/README.md, ninth session). Each
// decoder takes the members the player reads and skips the others; on
// anything it cannot read exactly as encoding/json would (see package
// fastjson and Decoder.SkipUnknown), it gives up and unmarshal uses
// encoding/json.

// unmarshal decodes a JSON document into out, counting in m the
// checkpoint responses and envelopes that needed encoding/json.
func (m *measurements) unmarshal(b []byte, out any) error {
	var ok bool
	switch v := out.(type) {
	case *checkpointResponse:
		*v, ok = decodeCheckpointResponse(b)
	case *envelope:
		*v, ok = decodeEnvelope(b)
	default:
		return json.Unmarshal(b, out)
	}
	if ok {
		return nil
	}
	m.jsonFallbacks.Add(1)
	return json.Unmarshal(b, out)
}

func decodeCheckpointResponse(b []byte) (checkpointResponse, bool) {
	var out checkpointResponse
	d := fastjson.NewDecoder(b)
	d.Object(func(key string) bool {
		switch key {
		case "CheckpointToken":
			out.CheckpointToken = d.StrPtr()
		case "NewExecutionState":
			decodeOperationPage(d, &out.NewExecutionState.Operations, &out.NewExecutionState.NextMarker)
		default:
			return d.SkipUnknown(key, "CheckpointToken", "NewExecutionState")
		}
		return !d.Failed()
	})
	return out, d.End()
}

func decodeEnvelope(b []byte) (envelope, bool) {
	var out envelope
	d := fastjson.NewDecoder(b)
	d.Object(func(key string) bool {
		switch key {
		case "DurableExecutionArn":
			d.NullableStr(&out.DurableExecutionArn)
		case "CheckpointToken":
			d.NullableStr(&out.CheckpointToken)
		case "InitialExecutionState":
			decodeOperationPage(d, &out.InitialExecutionState.Operations, &out.InitialExecutionState.NextMarker)
		case "UpdatedOperationIds":
			if d.Null() {
				out.UpdatedOperationIds = nil
				return true
			}
			ids := []string{}
			d.Array(func() bool {
				if d.Peek() == 'n' {
					return false // a null element: left to encoding/json
				}
				ids = append(ids, d.Str())
				return !d.Failed()
			})
			out.UpdatedOperationIds = ids
		default:
			return d.SkipUnknown(key, "DurableExecutionArn", "CheckpointToken", "InitialExecutionState", "UpdatedOperationIds")
		}
		return !d.Failed()
	})
	return out, d.End()
}

// decodeOperationPage reads {Operations, NextMarker} into ops and marker;
// null leaves them as they are, as encoding/json does for a struct.
func decodeOperationPage(d *fastjson.Decoder, ops *[]wireOp, marker *string) {
	if d.Null() {
		return
	}
	d.Object(func(key string) bool {
		switch key {
		case "Operations":
			if d.Null() {
				*ops = nil
				return true
			}
			list := []wireOp{}
			d.Array(func() bool {
				if d.Peek() == 'n' {
					return false // a null element: left to encoding/json
				}
				var op wireOp
				decodeOp(d, &op)
				list = append(list, op)
				return !d.Failed()
			})
			*ops = list
		case "NextMarker":
			d.NullableStr(marker)
		default:
			return d.SkipUnknown(key, "Operations", "NextMarker")
		}
		return !d.Failed()
	})
}

func decodeOp(d *fastjson.Decoder, op *wireOp) {
	d.Object(func(key string) bool {
		switch key {
		case "Id":
			d.NullableStr(&op.Id)
		case "ParentId":
			d.NullableStr(&op.ParentId)
		case "Type":
			d.NullableStr(&op.Type)
		case "Status":
			d.NullableStr(&op.Status)
		case "StepDetails":
			if d.Null() {
				op.StepDetails = nil
				return true
			}
			op.StepDetails = &struct {
				Result *string `json:"Result"`
			}{}
			oneMember(d, "Result", func() { op.StepDetails.Result = d.StrPtr() })
		case "WaitDetails":
			if d.Null() {
				op.WaitDetails = nil
				return true
			}
			op.WaitDetails = &struct {
				ScheduledEndTimestamp *float64 `json:"ScheduledEndTimestamp"`
			}{}
			oneMember(d, "ScheduledEndTimestamp", func() { op.WaitDetails.ScheduledEndTimestamp = d.Float64Ptr() })
		case "CallbackDetails":
			if d.Null() {
				op.CallbackDetails = nil
				return true
			}
			op.CallbackDetails = &struct {
				CallbackId *string `json:"CallbackId"`
			}{}
			oneMember(d, "CallbackId", func() { op.CallbackDetails.CallbackId = d.StrPtr() })
		default:
			return d.SkipUnknown(key, "Id", "ParentId", "Type", "Status", "StepDetails", "WaitDetails", "CallbackDetails")
		}
		return !d.Failed()
	})
}

// oneMember reads an object of which the player reads one member, name,
// calling read positioned at its value.
func oneMember(d *fastjson.Decoder, name string, read func()) {
	d.Object(func(key string) bool {
		if key != name {
			return d.SkipUnknown(key, name)
		}
		read()
		return !d.Failed()
	})
}
