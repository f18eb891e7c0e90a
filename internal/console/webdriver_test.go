package console_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// This file is a minimal W3C WebDriver client over chromedriver's HTTP API
// (plain JSON over net/http, no dependency): enough to load pages, find
// elements, type, click, run scripts and take screenshots in headless
// Chromium (Debian's chromium and chromium-driver packages).

// chromiumFlags are the flags Chromium needs here: headless, as root
// (no sandbox), with no network of its own beyond the page under test.
var chromiumFlags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--disable-dev-shm-usage", "--window-size=1360,1000", "--lang=en-US",
}

// webElementKey is the W3C key of an element reference.
const webElementKey = "element-6066-11e4-a52e-4f735466cecf"

// browser is one WebDriver session.
type browser struct {
	t       *testing.T
	base    string // chromedriver URL
	session string
	client  *http.Client
}

// findBinary returns the path of the first of names on PATH (or at an
// absolute path), or "".
func findBinary(names ...string) string {
	for _, n := range names {
		if filepath.IsAbs(n) {
			if _, err := os.Stat(n); err == nil {
				return n
			}
			continue
		}
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// startBrowser starts chromedriver and a headless Chromium session. It
// fails the test, saying what to install, when either is missing.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	chromium := findBinary("chromium", "chromium-browser", "/usr/lib/chromium/chromium")
	driver := findBinary("chromedriver", "/usr/lib/chromium/chromedriver")
	if chromium == "" || driver == "" {
		t.Fatalf("the console's browser test needs Chromium and ChromeDriver (found chromium=%q chromedriver=%q): "+
			"install the Debian packages: apt-get install -y chromium chromium-driver", chromium, driver)
	}
	port, err := freePort()
	if err != nil {
		t.Fatalf("pick a port for chromedriver: %v", err)
	}
	logFile := filepath.Join(t.TempDir(), "chromedriver.log")
	cmd := exec.Command(driver, "--port="+strconv.Itoa(port), "--allowed-ips=127.0.0.1", "--log-path="+logFile)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromedriver: %v", err)
	}
	b := &browser{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port), client: &http.Client{Timeout: 60 * time.Second}}
	t.Cleanup(func() {
		if b.session != "" {
			_, _ = b.do("DELETE", "", nil)
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			if log, err := os.ReadFile(logFile); err == nil && len(log) > 0 {
				t.Logf("chromedriver log (tail):\n%s", tail(string(log), 4000))
			}
		}
	})

	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := b.client.Get(b.base + "/status")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("chromedriver did not answer on %s: %v", b.base, err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	args := append([]string{"--user-data-dir=" + t.TempDir()}, chromiumFlags...)
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		// An alert must stay open (and be seen by the XSS check), not be
		// dismissed silently.
		"unhandledPromptBehavior": "ignore",
		"goog:chromeOptions":      map[string]any{"binary": chromium, "args": args},
		"goog:loggingPrefs":       map[string]string{"browser": "ALL"},
	}}}
	var created struct {
		SessionID string `json:"sessionId"`
	}
	raw, err := b.post("/session", caps)
	if err == nil {
		err = json.Unmarshal(raw, &created)
	}
	if err != nil || created.SessionID == "" {
		t.Fatalf("create a Chromium session (chromium %s): %v", chromium, err)
	}
	b.session = created.SessionID
	return b
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// webDriverError is an error answer of the WebDriver protocol.
type webDriverError struct {
	Code    string `json:"error"`
	Message string `json:"message"`
}

func (e *webDriverError) Error() string { return e.Code + ": " + e.Message }

// do sends a command of the session (path relative to /session/{id}) and
// returns its "value".
func (b *browser) do(method, path string, body any) (json.RawMessage, error) {
	return b.request(method, "/session/"+b.session+path, body)
}

func (b *browser) post(path string, body any) (json.RawMessage, error) {
	return b.request("POST", path, body)
}

func (b *browser) request(method, path string, body any) (json.RawMessage, error) {
	var rd io.Reader
	if body != nil {
		buf, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, b.base+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("webdriver %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	var out struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("webdriver %s %s: decode (status %d): %w", method, path, resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK {
		var we webDriverError
		if json.Unmarshal(out.Value, &we) == nil && we.Code != "" {
			return nil, &we
		}
		return nil, fmt.Errorf("webdriver %s %s: status %d: %s", method, path, resp.StatusCode, out.Value)
	}
	return out.Value, nil
}

// must fails the test on a WebDriver error.
func (b *browser) must(v json.RawMessage, err error) json.RawMessage {
	b.t.Helper()
	if err != nil {
		b.t.Fatalf("%v", err)
	}
	return v
}

// open navigates to url.
func (b *browser) open(url string) {
	b.t.Helper()
	b.must(b.do("POST", "/url", map[string]string{"url": url}))
}

// find returns the elements matching a CSS selector (none is no error).
func (b *browser) find(css string) ([]string, error) {
	raw, err := b.do("POST", "/elements", map[string]string{"using": "css selector", "value": css})
	if err != nil {
		return nil, err
	}
	var refs []map[string]string
	if err := json.Unmarshal(raw, &refs); err != nil {
		return nil, err
	}
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = r[webElementKey]
	}
	return ids, nil
}

// text returns an element's rendered text.
func (b *browser) text(el string) (string, error) {
	raw, err := b.do("GET", "/element/"+el+"/text", nil)
	if err != nil {
		return "", err
	}
	var s string
	return s, json.Unmarshal(raw, &s)
}

// script runs JavaScript in the page and decodes its return value into out.
func (b *browser) script(out any, js string, args ...any) {
	b.t.Helper()
	if args == nil {
		args = []any{}
	}
	raw := b.must(b.do("POST", "/execute/sync", map[string]any{"script": js, "args": args}))
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			b.t.Fatalf("script result %s: %v", raw, err)
		}
	}
}

// waitFor polls cond until it returns true (or the timeout passes, which
// fails the test with what and the page's text).
func (b *browser) waitFor(what string, timeout time.Duration, cond func() (bool, error)) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for {
		ok, err := cond()
		if ok {
			return
		}
		lastErr = err
		if time.Now().After(deadline) {
			var page string
			b.script(&page, "return document.body ? document.body.innerText : ''")
			b.t.Fatalf("timed out after %v waiting for %s (last error: %v)\npage text:\n%s", timeout, what, lastErr, tail(page, 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitText waits for an element matching css whose text contains want,
// and returns it.
func (b *browser) waitText(css, want string) string {
	b.t.Helper()
	var found string
	b.waitFor(fmt.Sprintf("%q containing %q", css, want), 20*time.Second, func() (bool, error) {
		els, err := b.find(css)
		if err != nil {
			return false, err
		}
		for _, el := range els {
			txt, err := b.text(el)
			if err != nil {
				continue // stale: the page re-rendered it
			}
			if strings.Contains(txt, want) {
				found = el
				return true, nil
			}
		}
		return false, nil
	})
	return found
}

// click clicks an element.
func (b *browser) click(el string) {
	b.t.Helper()
	b.must(b.do("POST", "/element/"+el+"/click", map[string]any{}))
}

// typeInto replaces an input's or textarea's value by typing text.
func (b *browser) typeInto(el, text string) {
	b.t.Helper()
	b.must(b.do("POST", "/element/"+el+"/clear", map[string]any{}))
	b.must(b.do("POST", "/element/"+el+"/value", map[string]any{"text": text}))
}

// first returns the first element matching css, waiting for one.
func (b *browser) first(css string) string {
	b.t.Helper()
	var el string
	b.waitFor(css, 20*time.Second, func() (bool, error) {
		els, err := b.find(css)
		if err != nil || len(els) == 0 {
			return false, err
		}
		el = els[0]
		return true, nil
	})
	return el
}

// alertText returns the text of an open alert, or "" with ok false when
// none is open.
func (b *browser) alertText() (text string, ok bool) {
	b.t.Helper()
	raw, err := b.do("GET", "/alert/text", nil)
	var we *webDriverError
	if errors.As(err, &we) && we.Code == "no such alert" {
		return "", false
	}
	b.must(raw, err)
	_ = json.Unmarshal(raw, &text)
	return text, true
}

// resize sets the window's size.
func (b *browser) resize(width, height int) {
	b.t.Helper()
	b.must(b.do("POST", "/window/rect", map[string]int{"width": width, "height": height}))
}

// fitViewport sizes the window so that its viewport is width × height
// (height kept between 600 and 4000): the window is taller than the
// viewport by the browser's own bars.
func (b *browser) fitViewport(width, height int) {
	b.t.Helper()
	height = min(max(height, 600), 4000)
	b.resize(width, height)
	var inner int
	b.script(&inner, "return window.innerHeight")
	if inner > 0 && inner < height {
		b.resize(width, 2*height-inner)
	}
}

// screenshot returns a PNG of the viewport.
func (b *browser) screenshot() []byte {
	b.t.Helper()
	var s string
	if err := json.Unmarshal(b.must(b.do("GET", "/screenshot", nil)), &s); err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	png, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	return png
}

// shot writes a screenshot of the viewport to $DURO_CONSOLE_SHOTS/name.png
// when that variable names a directory: a way to look at every page the
// test visits while working on the console.
func (b *browser) shot(name string) {
	b.t.Helper()
	dir := os.Getenv("DURO_CONSOLE_SHOTS")
	if dir == "" {
		return
	}
	var height int
	b.script(&height, "return document.documentElement.scrollHeight")
	b.fitViewport(1360, height)
	png := b.screenshot()
	b.resize(1360, 1000)
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
	}
}

// consoleErrors returns the SEVERE entries of the browser's console log
// since the last call: uncaught exceptions, failed requests, Content
// Security Policy violations.
func (b *browser) consoleErrors() []string {
	b.t.Helper()
	raw := b.must(b.do("POST", "/se/log", map[string]string{"type": "browser"}))
	var entries []struct {
		Level   string `json:"level"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(raw, &entries); err != nil {
		b.t.Fatalf("browser log: %v", err)
	}
	var out []string
	for _, e := range entries {
		if e.Level == "SEVERE" {
			out = append(out, e.Message)
		}
	}
	return out
}
