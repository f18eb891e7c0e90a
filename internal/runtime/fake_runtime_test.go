//go:build unix

package runtime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"
)

// The host tests run this test binary itself as a provided.al2023
// function: with DURO_FAKE_RUNTIME=1 it is a small Runtime API client
// whose behaviour each invocation's payload selects. That exercises the
// host with a real process and no interpreter.

func TestMain(m *testing.M) {
	if os.Getenv("DURO_FAKE_RUNTIME") == "1" {
		fakeRuntime()
		return
	}
	os.Exit(m.Run())
}

// fakeEvent is what a fake-runtime invocation asks for.
type fakeEvent struct {
	Action string   // echo (default), print, exit, sleep, error, spawn
	Lines  []string // printed to stdout before answering
	After  []string // printed to stdout after answering, before the next /next
	Millis int      // for sleep
}

func fakeRuntime() {
	base := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime"
	if msg := os.Getenv("FAKE_INIT_ERROR"); msg != "" {
		body := `{"errorType":"Fake.InitError","errorMessage":"` + msg + `"}`
		resp, err := http.Post(base+"/init/error", "application/json", bytes.NewBufferString(body))
		if err == nil {
			resp.Body.Close()
		}
		os.Exit(1)
	}
	post := func(path string, v any) {
		b, _ := json.Marshal(v)
		resp, err := http.Post(base+path, "application/json", bytes.NewReader(b))
		if err != nil {
			os.Exit(2)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	for {
		resp, err := http.Get(base + "/invocation/next")
		if err != nil {
			os.Exit(2)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		var ev fakeEvent
		_ = json.Unmarshal(body, &ev)
		for _, l := range ev.Lines {
			fmt.Println(l)
		}
		out := map[string]any{"pid": os.Getpid(), "deadline": resp.Header.Get("Lambda-Runtime-Deadline-Ms"),
			"arn": resp.Header.Get("Lambda-Runtime-Invoked-Function-Arn"), "tenant": resp.Header.Get("Lambda-Runtime-Aws-Tenant-Id"),
			"trace": resp.Header.Get("Lambda-Runtime-Trace-Id")}
		switch ev.Action {
		case "exit":
			os.Exit(3)
		case "sleep":
			time.Sleep(time.Duration(ev.Millis) * time.Millisecond)
		case "spawn":
			cmd := exec.Command("sleep", "60")
			if err := cmd.Start(); err != nil {
				os.Exit(4)
			}
			out["child"] = cmd.Process.Pid
		case "error":
			post("/invocation/"+id+"/error", map[string]any{"errorType": "Fake.Error", "errorMessage": "asked to fail"})
			continue
		}
		post("/invocation/"+id+"/response", out)
		// Output written after answering, before asking for more.
		for _, l := range ev.After {
			fmt.Println(l)
		}
	}
}
