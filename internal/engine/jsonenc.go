package engine

import (
	"strconv"
	"time"

	"github.com/duro-run/duro/internal/fastjson"
)

// Hand-written JSON encoders for what every checkpoint encodes: the
// operations of its response and of its mutation, the execution record
// and the new history events. encoding/json's reflection was a tenth of
// the server's CPU under load. Each appendJSON writes exactly what
// encoding/json writes with HTML escaping off (TestJSONEncodersMatch
// fills every field and compares), so readers decode both the same way;
// a field added to one of these types without its encoder fails that
// test.

// jsonObject appends the members of one JSON object, writing the commas.
type jsonObject struct {
	b     []byte
	empty bool
}

func openObject(b []byte) jsonObject { return jsonObject{b: append(b, '{'), empty: true} }

func (o *jsonObject) key(k string) {
	if !o.empty {
		o.b = append(o.b, ',')
	}
	o.empty = false
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, '"', ':')
}

func (o *jsonObject) str(k, v string) {
	o.key(k)
	o.b = fastjson.AppendString(o.b, v)
}

// optStr writes a string member tagged omitempty.
func (o *jsonObject) optStr(k, v string) {
	if v != "" {
		o.str(k, v)
	}
}

// strPtr writes a *string member tagged omitempty.
func (o *jsonObject) strPtr(k string, v *string) {
	if v != nil {
		o.str(k, *v)
	}
}

func (o *jsonObject) int(k string, v int64) {
	o.key(k)
	o.b = strconv.AppendInt(o.b, v, 10)
}

// optInt writes an integer member tagged omitempty.
func (o *jsonObject) optInt(k string, v int64) {
	if v != 0 {
		o.int(k, v)
	}
}

// int32Ptr writes a *int32 member tagged omitempty.
func (o *jsonObject) int32Ptr(k string, v *int32) {
	if v != nil {
		o.int(k, int64(*v))
	}
}

func (o *jsonObject) bool(k string, v bool) {
	o.key(k)
	o.b = strconv.AppendBool(o.b, v)
}

func (o *jsonObject) timestamp(k string, t Timestamp) {
	o.key(k)
	o.b = t.appendJSON(o.b)
}

// timestampPtr writes a *Timestamp member tagged omitempty.
func (o *jsonObject) timestampPtr(k string, t *Timestamp) {
	if t != nil {
		o.timestamp(k, *t)
	}
}

func (o *jsonObject) errorPtr(k string, e *ErrorObject) {
	if e != nil {
		o.key(k)
		o.b = e.appendJSON(o.b)
	}
}

func (o *jsonObject) close() []byte { return append(o.b, '}') }

// appendJSON appends what MarshalJSON returns.
func (t Timestamp) appendJSON(b []byte) []byte {
	ms := time.Time(t).UnixMilli()
	if ms%1000 == 0 {
		return strconv.AppendInt(b, ms/1000, 10)
	}
	return strconv.AppendFloat(b, float64(ms)/1000, 'f', -1, 64)
}

func (e *ErrorObject) appendJSON(b []byte) []byte {
	o := openObject(b)
	o.strPtr("ErrorMessage", e.ErrorMessage)
	o.strPtr("ErrorType", e.ErrorType)
	o.strPtr("ErrorData", e.ErrorData)
	if len(e.StackTrace) > 0 {
		o.key("StackTrace")
		o.b = append(o.b, '[')
		for i, l := range e.StackTrace {
			if i > 0 {
				o.b = append(o.b, ',')
			}
			o.b = fastjson.AppendString(o.b, l)
		}
		o.b = append(o.b, ']')
	}
	return o.close()
}

// appendJSON appends the operation as the API returns it.
func (op *Operation) appendJSON(b []byte) []byte {
	o := openObject(b)
	op.members(&o)
	return o.close()
}

func (op *Operation) members(o *jsonObject) {
	o.str("Id", op.Id)
	o.optStr("ParentId", op.ParentId)
	o.optStr("Name", op.Name)
	o.str("Type", op.Type)
	o.optStr("SubType", op.SubType)
	o.timestamp("StartTimestamp", op.StartTimestamp)
	o.timestampPtr("EndTimestamp", op.EndTimestamp)
	o.str("Status", op.Status)
	if d := op.ExecutionDetails; d != nil {
		o.key("ExecutionDetails")
		d2 := openObject(o.b)
		d2.strPtr("InputPayload", d.InputPayload)
		o.b = d2.close()
	}
	if d := op.ContextDetails; d != nil {
		o.key("ContextDetails")
		d2 := openObject(o.b)
		if d.ReplayChildren != nil {
			d2.bool("ReplayChildren", *d.ReplayChildren)
		}
		d2.strPtr("Result", d.Result)
		d2.errorPtr("Error", d.Error)
		o.b = d2.close()
	}
	if d := op.StepDetails; d != nil {
		o.key("StepDetails")
		d2 := openObject(o.b)
		d2.int("Attempt", int64(d.Attempt))
		d2.timestampPtr("NextAttemptTimestamp", d.NextAttemptTimestamp)
		d2.strPtr("Result", d.Result)
		d2.errorPtr("Error", d.Error)
		o.b = d2.close()
	}
	if d := op.WaitDetails; d != nil {
		o.key("WaitDetails")
		d2 := openObject(o.b)
		d2.timestampPtr("ScheduledEndTimestamp", d.ScheduledEndTimestamp)
		o.b = d2.close()
	}
	if d := op.CallbackDetails; d != nil {
		o.key("CallbackDetails")
		d2 := openObject(o.b)
		d2.strPtr("CallbackId", d.CallbackId)
		d2.strPtr("Result", d.Result)
		d2.errorPtr("Error", d.Error)
		o.b = d2.close()
	}
	if d := op.ChainedInvokeDetails; d != nil {
		o.key("ChainedInvokeDetails")
		d2 := openObject(o.b)
		d2.strPtr("Result", d.Result)
		d2.errorPtr("Error", d.Error)
		o.b = d2.close()
	}
}

// AppendJSON appends the response as encoding/json would encode it with
// HTML escaping off.
func (c *CheckpointOutput) AppendJSON(b []byte) []byte {
	o := openObject(b)
	o.strPtr("CheckpointToken", c.CheckpointToken)
	o.key("NewExecutionState")
	s := openObject(o.b)
	s.key("Operations")
	if c.NewExecutionState.Operations == nil {
		s.b = append(s.b, "null"...)
	} else {
		s.b = append(s.b, '[')
		for i := range c.NewExecutionState.Operations {
			if i > 0 {
				s.b = append(s.b, ',')
			}
			s.b = c.NewExecutionState.Operations[i].appendJSON(s.b)
		}
		s.b = append(s.b, ']')
	}
	s.optStr("NextMarker", c.NewExecutionState.NextMarker)
	o.b = s.close()
	return o.close()
}

// appendJSON appends the operation as stored.
func (r *opRecord) appendJSON(b []byte) []byte {
	o := openObject(b)
	r.Operation.members(&o)
	o.int("cs", r.ChangeSeq)
	o.optInt("ws", int64(r.WaitSeconds))
	o.optInt("ct", int64(r.CallbackTimeout))
	o.optInt("ht", int64(r.HeartbeatTimeout))
	o.optStr("ce", r.ChildExecution)
	o.optStr("sb", r.StartedBy)
	if p := r.PendingOutcome; p != nil {
		o.key("po")
		c := openObject(o.b)
		c.str("s", p.Status)
		c.strPtr("r", p.Result)
		c.errorPtr("e", p.Error)
		o.b = c.close()
	}
	return o.close()
}

// appendJSON appends the execution record as stored.
func (d *execData) appendJSON(b []byte) ([]byte, error) {
	o := openObject(b)
	o.str("fa", d.FunctionArn)
	o.strPtr("in", d.Input)
	o.str("ih", d.InputHash)
	o.strPtr("re", d.Result)
	o.errorPtr("er", d.Error)
	o.optStr("te", d.TenantID)
	o.optStr("ep", d.InvokeEndpoint)
	o.optStr("tr", d.TraceID)
	if c := d.DurableConfig; c != nil {
		o.key("dc")
		c2 := openObject(o.b)
		c2.int32Ptr("ExecutionTimeout", c.ExecutionTimeout)
		c2.int32Ptr("RetentionPeriodInDays", c.RetentionPeriodInDays)
		c2.strPtr("KMSKeyArn", c.KMSKeyArn)
		o.b = c2.close()
	}
	o.int("et", int64(d.ExecutionTimeout))
	o.int("rd", int64(d.RetentionDays))
	o.int("ne", d.NextEventID)
	o.int("no", d.NextOpSeq)
	o.int("cs", d.ChangeSeq)
	o.int("ds", d.DeliveredSeq)
	o.int("ts", d.TokenSeq)
	o.optStr("iv", d.InvocationID)
	if !d.InvocationStart.IsZero() {
		t, err := d.InvocationStart.MarshalJSON()
		if err != nil {
			return nil, err
		}
		o.key("is")
		o.b = append(o.b, t...)
	}
	o.optInt("fl", int64(d.Failures))
	if f := d.Final; f != nil {
		o.key("fi")
		f2 := openObject(o.b)
		f2.str("s", f.Status)
		f2.strPtr("r", f.Result)
		f2.errorPtr("e", f.Error)
		o.b = f2.close()
	}
	if l := d.LastCheckpoint; l != nil {
		o.key("lc")
		l2 := openObject(o.b)
		l2.int("q", l.Seq)
		l2.str("c", l.ClientToken)
		if l.Issued {
			l2.bool("i", true)
		}
		if len(l.Ops) > 0 {
			l2.key("o")
			l2.b = append(l2.b, '[')
			for i, id := range l.Ops {
				if i > 0 {
					l2.b = append(l2.b, ',')
				}
				l2.b = fastjson.AppendString(l2.b, id)
			}
			l2.b = append(l2.b, ']')
		}
		o.b = l2.close()
	}
	if p := d.Parent; p != nil {
		o.key("pa")
		p2 := openObject(o.b)
		p2.str("e", p.ExecutionID)
		p2.str("o", p.OperationID)
		o.b = p2.close()
	}
	if d.CallbackNonce != 0 {
		o.key("cn")
		o.b = strconv.AppendUint(o.b, d.CallbackNonce, 10)
	}
	return o.close(), nil
}

// appendJSON appends the event as stored and as the history returns it.
func (e *Event) appendJSON(b []byte) []byte {
	o := openObject(b)
	o.str("EventType", e.EventType)
	o.optStr("SubType", e.SubType)
	o.int("EventId", e.EventId)
	o.optStr("Id", e.Id)
	o.optStr("Name", e.Name)
	o.timestamp("EventTimestamp", e.EventTimestamp)
	o.optStr("ParentId", e.ParentId)
	if x := e.ExecutionStartedDetails; x != nil {
		o.key("ExecutionStartedDetails")
		d := openObject(o.b)
		d.key("Input")
		d.b = x.Input.appendJSON(d.b)
		d.int("ExecutionTimeout", int64(x.ExecutionTimeout))
		o.b = d.close()
	}
	if x := e.ExecutionSucceededDetails; x != nil {
		o.resultDetails("ExecutionSucceededDetails", x.Result)
	}
	if x := e.ExecutionFailedDetails; x != nil {
		o.errorDetails("ExecutionFailedDetails", &x.Error)
	}
	if x := e.ExecutionTimedOutDetails; x != nil {
		o.optErrorDetails("ExecutionTimedOutDetails", x)
	}
	if x := e.ExecutionStoppedDetails; x != nil {
		o.errorDetails("ExecutionStoppedDetails", &x.Error)
	}
	if e.ContextStartedDetails != nil {
		o.key("ContextStartedDetails")
		o.b = append(o.b, '{', '}')
	}
	if x := e.ContextSucceededDetails; x != nil {
		o.resultDetails("ContextSucceededDetails", x.Result)
	}
	if x := e.ContextFailedDetails; x != nil {
		o.errorDetails("ContextFailedDetails", &x.Error)
	}
	if x := e.WaitStartedDetails; x != nil {
		o.key("WaitStartedDetails")
		d := openObject(o.b)
		d.int("Duration", int64(x.Duration))
		d.timestamp("ScheduledEndTimestamp", x.ScheduledEndTimestamp)
		o.b = d.close()
	}
	if x := e.WaitSucceededDetails; x != nil {
		o.key("WaitSucceededDetails")
		d := openObject(o.b)
		d.int32Ptr("Duration", x.Duration)
		o.b = d.close()
	}
	if x := e.WaitCancelledDetails; x != nil {
		o.optErrorDetails("WaitCancelledDetails", x)
	}
	if e.StepStartedDetails != nil {
		o.key("StepStartedDetails")
		o.b = append(o.b, '{', '}')
	}
	if x := e.StepSucceededDetails; x != nil {
		o.key("StepSucceededDetails")
		d := openObject(o.b)
		d.key("Result")
		d.b = x.Result.appendJSON(d.b)
		d.key("RetryDetails")
		d.b = x.RetryDetails.appendJSON(d.b)
		o.b = d.close()
	}
	if x := e.StepFailedDetails; x != nil {
		o.key("StepFailedDetails")
		d := openObject(o.b)
		d.key("Error")
		d.b = x.Error.appendJSON(d.b)
		d.key("RetryDetails")
		d.b = x.RetryDetails.appendJSON(d.b)
		o.b = d.close()
	}
	if x := e.ChainedInvokeStartedDetails; x != nil {
		o.key("ChainedInvokeStartedDetails")
		d := openObject(o.b)
		d.str("FunctionName", x.FunctionName)
		d.strPtr("TenantId", x.TenantId)
		if x.Input != nil {
			d.key("Input")
			d.b = x.Input.appendJSON(d.b)
		}
		d.strPtr("ExecutedVersion", x.ExecutedVersion)
		d.key("DurableExecutionArn") // no omitempty: null when unset
		if x.DurableExecutionArn == nil {
			d.b = append(d.b, "null"...)
		} else {
			d.b = fastjson.AppendString(d.b, *x.DurableExecutionArn)
		}
		o.b = d.close()
	}
	if x := e.ChainedInvokeSucceededDetails; x != nil {
		o.resultDetails("ChainedInvokeSucceededDetails", x.Result)
	}
	if x := e.ChainedInvokeFailedDetails; x != nil {
		o.errorDetails("ChainedInvokeFailedDetails", &x.Error)
	}
	if x := e.ChainedInvokeTimedOutDetails; x != nil {
		o.errorDetails("ChainedInvokeTimedOutDetails", &x.Error)
	}
	if x := e.ChainedInvokeStoppedDetails; x != nil {
		o.errorDetails("ChainedInvokeStoppedDetails", &x.Error)
	}
	if x := e.CallbackStartedDetails; x != nil {
		o.key("CallbackStartedDetails")
		d := openObject(o.b)
		d.str("CallbackId", x.CallbackId)
		d.int32Ptr("HeartbeatTimeout", x.HeartbeatTimeout)
		d.int32Ptr("Timeout", x.Timeout)
		o.b = d.close()
	}
	if x := e.CallbackSucceededDetails; x != nil {
		o.resultDetails("CallbackSucceededDetails", x.Result)
	}
	if x := e.CallbackFailedDetails; x != nil {
		o.errorDetails("CallbackFailedDetails", &x.Error)
	}
	if x := e.CallbackTimedOutDetails; x != nil {
		o.errorDetails("CallbackTimedOutDetails", &x.Error)
	}
	if x := e.InvocationCompletedDetails; x != nil {
		o.key("InvocationCompletedDetails")
		d := openObject(o.b)
		d.timestamp("StartTimestamp", x.StartTimestamp)
		d.timestamp("EndTimestamp", x.EndTimestamp)
		d.str("RequestId", x.RequestId)
		if x.Error != nil {
			d.key("Error")
			d.b = x.Error.appendJSON(d.b)
		}
		o.b = d.close()
	}
	return o.close()
}

// resultDetails writes a details member of the ResultDetails shape.
func (o *jsonObject) resultDetails(k string, r EventResult) {
	o.key(k)
	d := openObject(o.b)
	d.key("Result")
	d.b = r.appendJSON(d.b)
	o.b = d.close()
}

// errorDetails writes a details member of the ErrorDetails shape.
func (o *jsonObject) errorDetails(k string, x *EventError) {
	o.key(k)
	d := openObject(o.b)
	d.key("Error")
	d.b = x.appendJSON(d.b)
	o.b = d.close()
}

// optErrorDetails writes a details member of the OptionalErrorDetails shape.
func (o *jsonObject) optErrorDetails(k string, x *OptionalErrorDetails) {
	o.key(k)
	d := openObject(o.b)
	if x.Error != nil {
		d.key("Error")
		d.b = x.Error.appendJSON(d.b)
	}
	o.b = d.close()
}

func (in *EventInput) appendJSON(b []byte) []byte {
	o := openObject(b)
	o.strPtr("Payload", in.Payload)
	o.bool("Truncated", in.Truncated)
	return o.close()
}

func (r EventResult) appendJSON(b []byte) []byte {
	o := openObject(b)
	o.strPtr("Payload", r.Payload)
	o.bool("Truncated", r.Truncated)
	return o.close()
}

func (x *EventError) appendJSON(b []byte) []byte {
	o := openObject(b)
	o.errorPtr("Payload", x.Payload)
	o.bool("Truncated", x.Truncated)
	return o.close()
}

func (r RetryDetails) appendJSON(b []byte) []byte {
	o := openObject(b)
	o.int("CurrentAttempt", int64(r.CurrentAttempt))
	o.int32Ptr("NextAttemptDelaySeconds", r.NextAttemptDelaySeconds)
	return o.close()
}
