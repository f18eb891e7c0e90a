// Package console is Duro's web console: a few static pages (plain HTML,
// CSS and JavaScript modules, embedded in the binary, no build step) that
// `duro serve` serves at /console/. The pages talk to the server only over
// HTTP: the public AWS API (GetDurableExecution, …History,
// StopDurableExecution, the callback operations, the function operations)
// and Duro's read routes (/duro/v1/executions, /duro/v1/logs).
//
// Every string that comes from the server is put into the page as text
// (textContent, DOM APIs), never as markup; the Content-Security-Policy the
// console is served with forbids inline scripts as a second line of defence.
package console

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
)

// Prefix is the path the console is served under.
const Prefix = "/console/"

//go:embed static
var embedded embed.FS

// files is the embedded static directory.
var files = mustSub(embedded, "static")

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(fmt.Sprintf("console: embedded %s: %v", dir, err))
	}
	return sub
}

// etags maps each embedded file (by its path under static/) to a strong
// ETag of its content, so that browsers revalidate cheaply.
var etags = func() map[string]string {
	m := map[string]string{}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		m[p] = `"` + hex.EncodeToString(sum[:12]) + `"`
		return nil
	})
	if err != nil {
		panic(fmt.Sprintf("console: hash embedded files: %v", err))
	}
	return m
}()

// contentSecurityPolicy allows the console's own scripts, styles and API
// calls and nothing else: no inline script or style, no plugin, no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the console's files for request paths under Prefix.
// Unknown paths and directories other than the root answer 404.
func Handler() http.Handler {
	fileServer := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, Prefix)
		if !ok {
			http.NotFound(w, r)
			return
		}
		if name == "" {
			name = "index.html"
		}
		etag, ok := etags[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", etag)
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + name
		if name == "index.html" {
			// FileServer redirects /index.html to ./; serve the root.
			r2.URL.Path = "/"
		}
		fileServer.ServeHTTP(w, r2)
	})
}

// Wrap returns a handler that serves the console under Prefix, redirects
// /console to /console/, and passes every other request to next (the API).
// It dispatches on the path itself rather than through a ServeMux, so that
// next still sees non-canonical paths unchanged.
func Wrap(next http.Handler) http.Handler {
	console := Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == strings.TrimSuffix(Prefix, "/"):
			http.Redirect(w, r, Prefix, http.StatusFound)
		case strings.HasPrefix(r.URL.Path, Prefix):
			console.ServeHTTP(w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}
