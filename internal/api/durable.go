package api

import (
	"errors"
	"net/http"

	"github.com/duro-run/duro/internal/engine"
)

// This file holds the nine durable execution operations (protocol.md §1.1).

// getDurableExecution is GetDurableExecution.
func (s *server) getDurableExecution(w http.ResponseWriter, r *http.Request) error {
	arn := r.PathValue("DurableExecutionArn")
	include, err := parseGetExecution(arn, newQuery(r))
	if err != nil {
		return err
	}
	desc, err := s.svc.GetExecution(r.Context(), arn, include)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, desc)
}

// getDurableExecutionHistory is GetDurableExecutionHistory.
func (s *server) getDurableExecutionHistory(w http.ResponseWriter, r *http.Request) error {
	q, err := parseHistoryQuery(r.PathValue("DurableExecutionArn"), newQuery(r))
	if err != nil {
		return err
	}
	page, err := s.svc.GetHistory(r.Context(), q)
	if err != nil {
		return err
	}
	// Events is required in the model: an empty history is [], not null.
	if page.Events == nil {
		page.Events = []engine.Event{}
	}
	return writeJSON(w, http.StatusOK, page)
}

// getDurableExecutionState is GetDurableExecutionState.
func (s *server) getDurableExecutionState(w http.ResponseWriter, r *http.Request) error {
	q, err := parseStateQuery(r.PathValue("DurableExecutionArn"), newQuery(r))
	if err != nil {
		return err
	}
	state, err := s.svc.GetState(r.Context(), q)
	if err != nil {
		return err
	}
	if state.Operations == nil {
		state.Operations = []engine.Operation{}
	}
	return writeJSON(w, http.StatusOK, state)
}

// checkpointDurableExecution is CheckpointDurableExecution.
func (s *server) checkpointDurableExecution(w http.ResponseWriter, r *http.Request) error {
	return s.checkpoint(w, r, r.PathValue("DurableExecutionArn"))
}

// checkpoint is CheckpointDurableExecution of the execution arn.
func (s *server) checkpoint(w http.ResponseWriter, r *http.Request, arn string) error {
	body, err := readBodyFor(r, maxCheckpointBody, opCheckpoint)
	if err != nil {
		return err
	}
	in, err := parseCheckpoint(arn, body)
	// The parsed request holds copies of what it took from the body.
	releaseBody(r)
	if err != nil {
		return err
	}
	out, err := s.svc.Checkpoint(r.Context(), in)
	if err != nil {
		return err
	}
	if out.NewExecutionState.Operations == nil {
		out.NewExecutionState.Operations = []engine.Operation{}
	}
	// The one response every step gets: encoded without reflection, into
	// a buffer sized for it (grown from nil, it took eight allocations),
	// the writer's own when it lends one.
	writeRaw(w, http.StatusOK, "application/json", out.AppendJSON(bodyBuffer(w, checkpointResponseSize(&out))))
	return nil
}

// listDurableExecutionsByFunction is ListDurableExecutionsByFunction.
func (s *server) listDurableExecutionsByFunction(w http.ResponseWriter, r *http.Request) error {
	q, err := parseListQuery(r.PathValue("FunctionName"), newQuery(r))
	if err != nil {
		return err
	}
	list, err := s.svc.ListExecutions(r.Context(), q)
	if err != nil {
		return err
	}
	if list.DurableExecutions == nil {
		list.DurableExecutions = []engine.ExecutionSummary{}
	}
	return writeJSON(w, http.StatusOK, list)
}

// stopResponse is the StopDurableExecution response.
type stopResponse struct {
	StopTimestamp engine.Timestamp `json:"StopTimestamp"`
}

// stopDurableExecution is StopDurableExecution. The body is the optional
// ErrorObject itself; "{}" and an empty body both mean none.
func (s *server) stopDurableExecution(w http.ResponseWriter, r *http.Request) error {
	arn, err := parseArnLabel(r.PathValue("DurableExecutionArn"))
	if err != nil {
		return err
	}
	body, err := readBodyFor(r, maxErrorObjectBody, "StopDurableExecution")
	if err != nil {
		return err
	}
	cause, err := parseErrorObject(body)
	if err != nil {
		return err
	}
	ts, err := s.svc.StopExecution(r.Context(), arn, cause)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, stopResponse{StopTimestamp: ts})
}

// emptyObject is the body of responses without members. Both "{}" and an
// empty body parse in every client; "{}" is what AWS sends.
const emptyObject = "{}"

// sendCallbackSuccess is SendDurableExecutionCallbackSuccess. The body is
// the raw Result, stored byte for byte; no Content-Type is required.
func (s *server) sendCallbackSuccess(w http.ResponseWriter, r *http.Request) error {
	id, err := parseCallbackIDLabel(r.PathValue("CallbackId"))
	if err != nil {
		return err
	}
	// Not readBodyFor: an over-limit Result is a constraint violation of
	// the blob member here, not RequestTooLargeException.
	body, err := readBody(r, maxCallbackResult)
	tooLarge := errors.Is(err, errBodyTooLarge)
	if err != nil && !tooLarge {
		if r.Context().Err() != nil {
			return err
		}
		return invalidParameter("Could not read the request body")
	}
	result, err := parseCallbackResult(body, tooLarge)
	if err != nil {
		return err
	}
	if err := s.svc.CallbackSuccess(r.Context(), id, result); err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, "application/json", []byte(emptyObject))
	return nil
}

// sendCallbackFailure is SendDurableExecutionCallbackFailure.
func (s *server) sendCallbackFailure(w http.ResponseWriter, r *http.Request) error {
	id, err := parseCallbackIDLabel(r.PathValue("CallbackId"))
	if err != nil {
		return err
	}
	body, err := readBodyFor(r, maxErrorObjectBody, "SendDurableExecutionCallbackFailure")
	if err != nil {
		return err
	}
	cause, err := parseErrorObject(body)
	if err != nil {
		return err
	}
	if err := s.svc.CallbackFailure(r.Context(), id, cause); err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, "application/json", []byte(emptyObject))
	return nil
}

// sendCallbackHeartbeat is SendDurableExecutionCallbackHeartbeat. It has no
// body; anything sent is ignored.
func (s *server) sendCallbackHeartbeat(w http.ResponseWriter, r *http.Request) error {
	id, err := parseCallbackIDLabel(r.PathValue("CallbackId"))
	if err != nil {
		return err
	}
	discardBody(r)
	if err := s.svc.CallbackHeartbeat(r.Context(), id); err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, "application/json", []byte(emptyObject))
	return nil
}

// checkpointResponseSize estimates the bytes of a checkpoint's response:
// the envelope and token, and half a kilobyte per operation (a step with a
// small result takes ~400). Larger payloads grow the buffer as before.
func checkpointResponseSize(out *engine.CheckpointOutput) int {
	n := 128
	if out.CheckpointToken != nil {
		n += len(*out.CheckpointToken)
	}
	return n + 512*len(out.NewExecutionState.Operations)
}
