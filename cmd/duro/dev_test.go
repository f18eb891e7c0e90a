package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/duro-run/duro/internal/durable"
)

const devTemplate = `AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Greeter:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: greeter
      Runtime: nodejs22.x
      Handler: index.handler
      CodeUri: src/
  PyGreeter:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: py-greeter
      Runtime: python3.12
      Handler: app.handler
      CodeUri: pysrc/
`

// `duro dev --template` registers a template's functions, serves them, and
// reloads a function when its code changes.
func TestDevRunsTemplateAndReloadsOnChange(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is needed (CI installs it): %v", err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "template.yaml"), devTemplate)
	write(filepath.Join(src, "index.js"), `exports.handler = async () => "v1";`)
	if err := os.MkdirAll(filepath.Join(dir, "pysrc"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(dir, "pysrc", "app.py"), "def handler(event, context):\n    return \"py\"\n")
	// --node and --python name the interpreters: wrappers that leave a
	// mark, then run the real ones.
	wrap := func(command string) (wrapper, mark string) {
		t.Helper()
		real, err := exec.LookPath(command)
		if err != nil {
			t.Fatalf("%s is needed (CI installs it): %v", command, err)
		}
		mark = filepath.Join(dir, command+"-wrapper-ran")
		wrapper = filepath.Join(dir, "my-"+command)
		write(wrapper, "#!/bin/sh\ntouch '"+mark+"'\nexec '"+real+"' \"$@\"\n")
		if err := os.Chmod(wrapper, 0o755); err != nil {
			t.Fatal(err)
		}
		return wrapper, mark
	}
	wrapper, mark := wrap("node")
	pyWrapper, pyMark := wrap("python3")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"dev", "--template", filepath.Join(dir, "template.yaml"),
			"--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"), "--log-level", "error", "--node", wrapper, "--python", pyWrapper}, &stdout, &stderr)
	}()
	urlRe := regexp.MustCompile(`serving the AWS Lambda API at (http://\S+)`)
	var endpoint string
	for deadline := time.Now().Add(30 * time.Second); endpoint == ""; {
		if m := urlRe.FindStringSubmatch(stdout.String()); m != nil {
			endpoint = m[1]
			break
		}
		select {
		case code := <-done:
			t.Fatalf("duro dev exited with %d:\n%s\n%s", code, stdout.String(), stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("duro dev did not start:\n%s\n%s", stdout.String(), stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	client := durable.NewClient(endpoint)
	invokeFn := func(name string) string {
		t.Helper()
		out, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(`{}`)})
		if err != nil {
			t.Fatalf("Invoke: %v", err)
		}
		if out.FunctionError != nil {
			t.Fatalf("function error: %s", out.Payload)
		}
		return string(out.Payload)
	}
	invoke := func() string { return invokeFn("greeter") }
	if got := invoke(); got != `"v1"` {
		t.Fatalf("first invoke = %s, want \"v1\"", got)
	}
	if _, err := os.Stat(mark); err != nil {
		t.Errorf("the function did not run on the --node interpreter: %v", err)
	}
	if got := invokeFn("py-greeter"); got != `"py"` {
		t.Fatalf("py-greeter = %s, want \"py\"", got)
	}
	if _, err := os.Stat(pyMark); err != nil {
		t.Errorf("the Python function did not run on the --python interpreter: %v", err)
	}

	write(filepath.Join(src, "index.js"), `exports.handler = async () => "v2";`)
	for deadline := time.Now().Add(20 * time.Second); ; {
		got := invoke()
		if got == `"v2"` {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %s after the code changed:\n%s", got, stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("duro dev exited with %d after cancel:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("duro dev did not stop")
	}
}
