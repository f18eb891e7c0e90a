package api

import (
	"net/http"

	"github.com/duro-run/duro/internal/engine"
)

// updateFunctionCodeRequest is the UpdateFunctionCode body (Lambda's
// public API; the durable model file does not include the operation).
// Duro takes code only as ZipFile; the S3 and image members are decoded so
// that using them is a clear error rather than silently ignored.
type updateFunctionCodeRequest struct {
	ZipFile         []byte   `json:"ZipFile"`
	S3Bucket        *string  `json:"S3Bucket"`
	S3Key           *string  `json:"S3Key"`
	S3ObjectVersion *string  `json:"S3ObjectVersion"`
	ImageUri        *string  `json:"ImageUri"`
	Publish         bool     `json:"Publish"`
	DryRun          bool     `json:"DryRun"`
	RevisionId      *string  `json:"RevisionId"`
	Architectures   []string `json:"Architectures"`
}

// parseUpdateFunctionCode decodes and validates an UpdateFunctionCode body.
func parseUpdateFunctionCode(body []byte) (in engine.UpdateFunctionCodeInput, dryRun bool, err error) {
	var req updateFunctionCodeRequest
	if err := decodeJSON(body, &req); err != nil {
		return in, false, err
	}
	if req.S3Bucket != nil || req.S3Key != nil || req.S3ObjectVersion != nil || req.ImageUri != nil {
		return in, false, invalidParameter("Duro accepts function code only as ZipFile; S3 locations and container images are not supported.")
	}
	if len(req.ZipFile) == 0 {
		return in, false, invalidParameter("Please provide a source for function code.")
	}
	var v violations
	if req.Architectures != nil {
		v.listLen("architectures", req.Architectures, 1, 1)
		v.enumList("architectures", req.Architectures, enumArchitecture)
	}
	return engine.UpdateFunctionCodeInput{ZipFile: req.ZipFile, Publish: req.Publish}, req.DryRun, v.err()
}

// updateFunctionCode is UpdateFunctionCode
// (PUT /2015-03-31/functions/{FunctionName}/code): it replaces $LATEST's
// code, and publishes a version when Publish is set. DryRun validates the
// request without changing anything. RevisionId is not checked.
func (s *server) updateFunctionCode(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("FunctionName")
	if _, err := parseStrictFunctionNameLabel(name, query{}); err != nil {
		return err
	}
	body, err := readBodyFor(r, maxCreateFunctionBody, "UpdateFunctionCode")
	if err != nil {
		return err
	}
	in, dryRun, err := parseUpdateFunctionCode(body)
	if err != nil {
		return err
	}
	if dryRun {
		cfg, err := s.svc.GetFunctionConfiguration(r.Context(), name, "")
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, cfg)
	}
	cfg, err := s.svc.UpdateFunctionCode(r.Context(), name, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, cfg)
}
