package api

import (
	"net/http"

	"github.com/duro-run/duro/internal/engine"
)

// This file holds the function operations under /2015-03-31/ that Duro
// implements: enough of Lambda's function API to deploy, configure, version
// and list durable functions with the standard tools.

// createFunction is CreateFunction (201).
func (s *server) createFunction(w http.ResponseWriter, r *http.Request) error {
	body, err := readBodyFor(r, maxCreateFunctionBody, "CreateFunction")
	if err != nil {
		return err
	}
	in, err := parseCreateFunction(body)
	if err != nil {
		return err
	}
	cfg, err := s.svc.CreateFunction(r.Context(), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, cfg)
}

// functionsResponse is the ListFunctions response; Functions is always sent.
type functionsResponse struct {
	NextMarker string                         `json:"NextMarker,omitempty"`
	Functions  []engine.FunctionConfiguration `json:"Functions"`
}

// versionsResponse is the ListVersionsByFunction response; Versions is
// always sent.
type versionsResponse struct {
	NextMarker string                         `json:"NextMarker,omitempty"`
	Versions   []engine.FunctionConfiguration `json:"Versions"`
}

// listFunctions is ListFunctions. MasterRegion is ignored; FunctionVersion
// (only "ALL" exists) is validated but the engine always lists $LATEST.
func (s *server) listFunctions(w http.ResponseWriter, r *http.Request) error {
	p, err := parseListParams(newQuery(r))
	if err != nil {
		return err
	}
	list, err := s.svc.ListFunctions(r.Context(), p.marker, p.maxItems)
	if err != nil {
		return err
	}
	resp := functionsResponse{NextMarker: list.NextMarker, Functions: list.Functions}
	if resp.Functions == nil {
		resp.Functions = []engine.FunctionConfiguration{}
	}
	return writeJSON(w, http.StatusOK, resp)
}

// getFunction is GetFunction.
func (s *server) getFunction(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("FunctionName")
	qualifier, err := parseFunctionNameLabel(name, newQuery(r))
	if err != nil {
		return err
	}
	out, err := s.svc.GetFunction(r.Context(), name, qualifier)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// deleteFunction is DeleteFunction (204, no body).
func (s *server) deleteFunction(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("FunctionName")
	qualifier, err := parseStrictFunctionNameLabel(name, newQuery(r))
	if err != nil {
		return err
	}
	if err := s.svc.DeleteFunction(r.Context(), name, qualifier); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// getFunctionConfiguration is GetFunctionConfiguration.
func (s *server) getFunctionConfiguration(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("FunctionName")
	qualifier, err := parseFunctionNameLabel(name, newQuery(r))
	if err != nil {
		return err
	}
	cfg, err := s.svc.GetFunctionConfiguration(r.Context(), name, qualifier)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, cfg)
}

// updateFunctionConfiguration is UpdateFunctionConfiguration.
func (s *server) updateFunctionConfiguration(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("FunctionName")
	if _, err := parseStrictFunctionNameLabel(name, query{}); err != nil {
		return err
	}
	body, err := readBodyFor(r, maxSmallBody, "UpdateFunctionConfiguration")
	if err != nil {
		return err
	}
	in, err := parseUpdateFunctionConfiguration(body)
	if err != nil {
		return err
	}
	cfg, err := s.svc.UpdateFunctionConfiguration(r.Context(), name, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, cfg)
}

// publishVersion is PublishVersion (201).
func (s *server) publishVersion(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("FunctionName")
	if _, err := parseStrictFunctionNameLabel(name, query{}); err != nil {
		return err
	}
	body, err := readBodyFor(r, maxSmallBody, "PublishVersion")
	if err != nil {
		return err
	}
	description, err := parsePublishVersion(body)
	if err != nil {
		return err
	}
	cfg, err := s.svc.PublishVersion(r.Context(), name, description)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, cfg)
}

// listVersionsByFunction is ListVersionsByFunction.
func (s *server) listVersionsByFunction(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("FunctionName")
	if _, err := parseFunctionNameLabel(name, query{}); err != nil {
		return err
	}
	p, err := parseListParams(newQuery(r))
	if err != nil {
		return err
	}
	list, err := s.svc.ListVersionsByFunction(r.Context(), name, p.marker, p.maxItems)
	if err != nil {
		return err
	}
	resp := versionsResponse{NextMarker: list.NextMarker, Versions: list.Versions}
	if resp.Versions == nil {
		resp.Versions = []engine.FunctionConfiguration{}
	}
	return writeJSON(w, http.StatusOK, resp)
}
