package console_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// screenshotPath is where TestConsoleInBrowser writes its screenshot of an
// execution page (relative to this package) when DURO_CONSOLE_SCREENSHOT is
// set, which is how the README's picture is made:
//
//	DURO_CONSOLE_SCREENSHOT=1 go test ./internal/console -run TestConsoleInBrowser
const screenshotPath = "../../docs/console-execution.png"

// TestConsoleInBrowser drives the console in headless Chromium against a
// real server: it finds a finished execution in the list, opens it and sees
// its steps and history (and writes the screenshot), completes a pending
// callback from the page and sees the execution finish, stops another
// execution, and checks that a payload made of HTML is shown as text.
//
// It needs Debian's chromium and chromium-driver packages and fails,
// saying so, without them.
func TestConsoleInBrowser(t *testing.T) {
	n := startNode(t)
	seedFunctions(n)
	n.invoke("order-workflow", "order-1001", `{"orderId":"1001","total":42.5,"customer":"Ada"}`)
	n.invoke("xss-demo", "xss-check", `{"note":"`+xssPayload+`"}`)
	approval := n.start("approval", "approval-7", `{"amount":1200,"requester":"bob"}`)
	toStop := n.start("approval", "approval-8", `{"amount":5}`)
	n.awaitCallback(approval)
	n.awaitCallback(toStop)

	b := startBrowser(t)
	console := n.srv.URL() + "/console"
	// Whatever a step did, the page must not have logged an error.
	noErrors := func(t *testing.T) {
		t.Cleanup(func() {
			if errs := b.consoleErrors(); len(errs) > 0 {
				t.Errorf("the browser logged errors:\n%s", strings.Join(errs, "\n"))
			}
		})
	}

	t.Run("finished execution", func(t *testing.T) {
		b.t = t
		noErrors(t)
		b.open(console) // redirected to /console/, the executions list
		b.waitText("tr.exec-row", "order-1001")
		b.shot("list")
		b.click(b.first(`tr.exec-row a[href*="order-1001"]`))

		b.waitText(".exec-status", "SUCCEEDED")
		for _, op := range []string{"validate-order", "reserve-stock", "payment", "branch-authorize", "authorize-card", "capture-charge", "cool-down", "ship"} {
			b.waitText("ul.optree .op-name", op)
		}
		b.waitText("ul.optree li.op", "2 attempts") // reserve-stock failed once
		b.waitText(".io .result", `"status": "shipped"`)
		b.waitText(".io .input", `"customer": "Ada"`)
		for _, ev := range []string{"ExecutionStarted", "StepFailed", "ContextStarted", "WaitSucceeded", "InvocationCompleted", "ExecutionSucceeded"} {
			b.waitText("table.events .evtype", ev)
		}
		b.waitText(".timeline .tl-label", "invocation 3")
		b.waitText(".timeline .tl-label", "cool-down")
		// Nesting: the step sits in its branch, inside the payment context.
		var depth int
		b.script(&depth, `const el = [...document.querySelectorAll("ul.optree .op-name")].find(e => e.textContent === "authorize-card");
			let d = 0; for (let li = el.closest("li.op"); li; li = li.parentElement.closest("li.op")) d++; return d;`)
		if depth != 4 { // execution › payment › branch-authorize › authorize-card
			t.Errorf("authorize-card is %d levels deep in the operation tree, want 4", depth)
		}

		// Open one step's details for the picture, then photograph the
		// page down to the end of the timeline.
		b.script(nil, `const li = [...document.querySelectorAll("ul.optree li.op")].find(l => l.querySelector(".op-name").textContent === "capture-charge");
			li.querySelector("details").open = true;`)
		var height float64
		b.script(&height, `return document.querySelector(".timeline").getBoundingClientRect().bottom + window.scrollY + 24`)
		b.fitViewport(1360, int(height))
		png := b.screenshot()
		b.resize(1360, 1000)
		b.shot("execution-full")
		if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 20_000 {
			t.Fatalf("screenshot: %d bytes, not a plausible PNG", len(png))
		}
		if os.Getenv("DURO_CONSOLE_SCREENSHOT") == "" {
			return
		}
		if err := os.MkdirAll(filepath.Dir(screenshotPath), 0o755); err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(screenshotPath, png, 0o644); err != nil {
			t.Fatalf("write screenshot: %v", err)
		}
		abs, _ := filepath.Abs(screenshotPath)
		t.Logf("wrote %s (%d bytes)", abs, len(png))
	})

	t.Run("complete a callback", func(t *testing.T) {
		b.t = t
		noErrors(t)
		b.open(console + "/#/executions?status=RUNNING")
		b.waitText("tr.exec-row", "approval-8")
		b.click(b.first(`tr.exec-row a[href*="approval-7"]`))
		b.waitText(".exec-status", "RUNNING")
		b.waitText(".callback .op-name", "manager-approval")
		b.shot("callback-pending")

		// Invalid JSON is refused on the page.
		area := b.first(".callback textarea.payload")
		b.typeInto(area, `{"approved": yes}`)
		b.click(b.first(".callback button.send-success"))
		b.waitText(".callback p.error", "not valid JSON")

		b.typeInto(area, `{"approved": true, "by": "console-test"}`)
		b.click(b.first(".callback button.send-success"))
		b.waitText(".exec-status", "SUCCEEDED")
		b.waitText(".io .result", `"by": "console-test"`)
		b.waitText("ul.optree .op-name", "apply-decision")
		b.shot("callback-done")
		if els, _ := b.find(".callback"); len(els) != 0 {
			t.Errorf("the completed callback's form is still shown")
		}
		d := n.describe(approval)
		if d.Status != types.ExecutionStatusSucceeded || !strings.Contains(aws.ToString(d.Result), `"by":"console-test"`) {
			t.Errorf("after the callback: status %s, result %s", d.Status, aws.ToString(d.Result))
		}
	})

	t.Run("stop", func(t *testing.T) {
		b.t = t
		noErrors(t)
		b.open(console + "/#/executions?name=approval-8")
		b.click(b.first(`tr.exec-row a[href*="approval-8"]`))
		b.waitText(".exec-status", "RUNNING")
		b.click(b.first("button.stop"))
		// The page asks for confirmation.
		if text, ok := b.alertText(); !ok || !strings.Contains(text, "approval-8") {
			t.Fatalf("no confirmation before stopping (dialog %q, %v)", text, ok)
		}
		b.must(b.do("POST", "/alert/accept", map[string]any{}))
		b.waitText(".exec-status", "STOPPED")
		if d := n.describe(toStop); d.Status != types.ExecutionStatusStopped {
			t.Errorf("after Stop: %s", d.Status)
		}
	})

	t.Run("escaping", func(t *testing.T) {
		b.t = t
		noErrors(t)
		check := func(where string) {
			t.Helper()
			if text, open := b.alertText(); open {
				t.Fatalf("%s: the page ran the payload: alert %q", where, text)
			}
			var imgs int
			b.script(&imgs, `return document.querySelectorAll("img").length`)
			if imgs != 0 {
				t.Fatalf("%s: the payload became %d <img> element(s)", where, imgs)
			}
		}
		b.open(console + "/#/executions?function=xss-demo")
		b.click(b.first(`tr.exec-row a[href*="xss-check"]`))
		b.waitText(".exec-status", "SUCCEEDED")
		b.waitText("ul.optree .op-name", xssPayload) // the step's name, as text
		b.waitText(".io .input", xssPayload)
		b.waitText(".io .result", xssPayload)
		b.waitText("table.events td", xssPayload)
		time.Sleep(300 * time.Millisecond) // an onerror would have fired by now
		check("execution page")
		b.shot("xss-execution")

		b.open(console + "/#/functions")
		b.waitText("tr.fn-row", "Description "+xssPayload)
		check("functions page")
		b.shot("functions")
		b.click(b.first(`tr.fn-row a[href="#/functions/xss-demo"]`))
		b.waitText("dl.meta dd", "Description "+xssPayload)
		b.waitText("table.list", "xss-check")
		check("function page")
		b.shot("function")
	})
}
