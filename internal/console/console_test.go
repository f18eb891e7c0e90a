package console_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/duro-run/duro/internal/console"
)

// TestHandler checks how the console's files are served and that every
// other request reaches the wrapped handler unchanged.
func TestHandler(t *testing.T) {
	var passed []string
	h := console.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		passed = append(passed, r.Method+" "+r.URL.Path)
		w.WriteHeader(http.StatusTeapot)
	}))
	do := func(method, target string, header http.Header) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, nil)
		for k, v := range header {
			req.Header[k] = v
		}
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, req)
		return rr
	}

	rr := do("GET", "/console", nil)
	if rr.Code != http.StatusFound || rr.Header().Get("Location") != "/console/" {
		t.Errorf("GET /console: %d, Location %q; want a redirect to /console/", rr.Code, rr.Header().Get("Location"))
	}

	rr = do("GET", "/console/", nil)
	body, _ := io.ReadAll(rr.Body)
	if rr.Code != http.StatusOK || !strings.Contains(string(body), `<script type="module" src="js/app.js">`) {
		t.Fatalf("GET /console/: %d %.200s", rr.Code, body)
	}
	if ct := rr.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("index Content-Type %q", ct)
	}
	csp := rr.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	etag := rr.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if rr := do("GET", "/console/", http.Header{"If-None-Match": {etag}}); rr.Code != http.StatusNotModified {
		t.Errorf("revalidation: %d, want 304", rr.Code)
	}

	for path, ctype := range map[string]string{
		"/console/js/app.js":       "text/javascript",
		"/console/js/execution.js": "text/javascript",
		"/console/style.css":       "text/css",
	} {
		rr := do("GET", path, nil)
		if rr.Code != http.StatusOK || !strings.HasPrefix(rr.Header().Get("Content-Type"), ctype) {
			t.Errorf("GET %s: %d %q, want 200 %s", path, rr.Code, rr.Header().Get("Content-Type"), ctype)
		}
	}
	for _, path := range []string{"/console/nope.js", "/console/js/", "/console/../2015-03-31/functions", "/console/index.html/x"} {
		if rr := do("GET", path, nil); rr.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, rr.Code)
		}
	}
	if rr := do("POST", "/console/", nil); rr.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /console/: %d, want 405", rr.Code)
	}

	passed = nil
	for _, target := range []string{"/2015-03-31/functions", "/consoles", "//console/", "/duro/v1/executions"} {
		if rr := do("GET", target, nil); rr.Code != http.StatusTeapot {
			t.Errorf("GET %s: %d, want it passed on", target, rr.Code)
		}
	}
	if len(passed) != 4 {
		t.Errorf("passed on: %q", passed)
	}
}
