package runtime

import (
	"embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/duro-run/duro/internal/engine"
)

// bootstraps are Duro's own runtime clients for the interpreted runtimes:
// plain Node.js and Python programs that implement the Runtime API loop
// and load the function's handler, as Lambda's managed runtimes do.
//
//go:embed bootstrap/bootstrap.mjs bootstrap/bootstrap.py
var bootstraps embed.FS

// installBootstraps writes the bootstraps to <dataDir>/runtime and returns
// that directory (LAMBDA_RUNTIME_DIR). They are rewritten at every start,
// so that an upgraded Duro never runs an old bootstrap; each write replaces
// the file atomically, so a worker starting meanwhile reads a whole one.
func installBootstraps(dataDir string) (string, error) {
	dir, err := filepath.Abs(filepath.Join(dataDir, "runtime"))
	if err != nil {
		return "", fmt.Errorf("install runtime bootstraps: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("install runtime bootstraps: %w", err)
	}
	for _, name := range []string{"bootstrap.mjs", "bootstrap.py"} {
		b, err := bootstraps.ReadFile("bootstrap/" + name)
		if err != nil {
			return "", fmt.Errorf("install runtime bootstraps: %w", err)
		}
		tmp := filepath.Join(dir, "."+name+".tmp")
		if err := os.WriteFile(tmp, b, 0o644); err != nil {
			return "", fmt.Errorf("install runtime bootstraps: %w", err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
			return "", fmt.Errorf("install runtime bootstraps: %w", err)
		}
	}
	return dir, nil
}

// launchSpec is how to start a function's workers.
type launchSpec struct {
	path string
	args []string
	dir  string   // working directory: the code (LAMBDA_TASK_ROOT)
	env  []string // everything but the per-worker variables
	// slots is how many invocations one worker serves at once.
	slots int
}

// DefaultEnvironmentConcurrency is how many invocations one worker of a
// function on managed instances serves at once when its
// PerExecutionEnvironmentMaxConcurrency is not set: Lambda's default for
// Node.js, 64 per vCPU, for a worker that is one Node.js thread.
const DefaultEnvironmentConcurrency = 64

// environmentConcurrency is how many invocations one worker of fn serves
// at once: 1 (Lambda's model) unless fn is on managed instances. Duro's
// Python bootstrap serves one invocation at a time (Lambda runs a process
// per concurrent request for Python), so python3.* workers stay at 1.
func environmentConcurrency(fn engine.FunctionConfiguration) int {
	c := fn.CapacityProviderConfig
	if c == nil || c.LambdaManagedInstancesCapacityProviderConfig == nil || strings.HasPrefix(fn.Runtime, "python") {
		return 1
	}
	if n := c.MaxConcurrency(); n > 0 {
		return n
	}
	return DefaultEnvironmentConcurrency
}

// launchSpec decides how a function runs from its Runtime.
func (h *host) launchSpec(fn engine.FunctionConfiguration) (launchSpec, error) {
	code, err := filepath.Abs(fn.CodeLocation) // a local code directory may be relative
	if err != nil {
		code = fn.CodeLocation
	}
	if fi, err := os.Stat(code); err != nil || !fi.IsDir() {
		return launchSpec{}, &engine.InvocationError{Type: "Runtime.InvalidEntrypoint",
			Message: fmt.Sprintf("the code directory of %s is missing: %s", fn.FunctionName, code)}
	}
	spec := launchSpec{dir: code, slots: environmentConcurrency(fn)}
	extra := map[string]string{}
	rt := fn.Runtime
	switch {
	case strings.HasPrefix(rt, "nodejs"):
		node, err := exec.LookPath(h.cfg.NodeCommand)
		if err != nil {
			return launchSpec{}, unsupported(fn, fmt.Sprintf("%s needs %q on PATH: %v", rt, h.cfg.NodeCommand, err))
		}
		spec.path = node
		spec.args = append(nodeArgs(fn.MemorySize), filepath.Join(h.runtimeDir, "bootstrap.mjs"))
		extra["NODE_NO_WARNINGS"] = "1"
	case strings.HasPrefix(rt, "python3"):
		// One interpreter serves every python3.N: a versioned command on
		// PATH may be a shim (pyenv) that fails when that version is not
		// the selected one.
		python, err := exec.LookPath(h.cfg.PythonCommand)
		if err != nil {
			return launchSpec{}, unsupported(fn, fmt.Sprintf("%s needs %q on PATH: %v", rt, h.cfg.PythonCommand, err))
		}
		spec.path, spec.args = python, []string{filepath.Join(h.runtimeDir, "bootstrap.py")}
		extra["PYTHONUNBUFFERED"] = "1"
		extra["PYTHONDONTWRITEBYTECODE"] = "1"
	case strings.HasPrefix(rt, "provided"):
		spec.path = filepath.Join(code, "bootstrap")
	default:
		return launchSpec{}, unsupported(fn, fmt.Sprintf("Duro runs nodejs*, python3.* and provided.* functions locally, not %q; set %s to run it elsewhere", rt, InvokeURLVariable))
	}
	spec.env = h.environment(fn, code, spec.slots, extra)
	return spec, nil
}

// nodeArgs are the flags Lambda's Node.js runtimes start node with: the
// heap sized from the function's memory (a tenth of it for the young
// generation, split in two semi-spaces, the rest for the old one), so that
// a function outgrowing its MemorySize fails as it does on Lambda, and the
// garbage collector works with the same young generation (Node's own
// default ignores the function's size). global.gc is exposed, as there.
func nodeArgs(memoryMB int32) []string {
	args := []string{"--expose-gc", "--max-http-header-size", "81920"}
	if memoryMB <= 0 {
		return args
	}
	young := memoryMB / 10
	return append(args,
		"--max-semi-space-size="+strconv.Itoa(int(young/2)),
		"--max-old-space-size="+strconv.Itoa(int(memoryMB-young)))
}

func unsupported(fn engine.FunctionConfiguration, msg string) error {
	return &engine.InvocationError{Type: "Runtime.InvalidEntrypoint", Message: fn.FunctionName + ": " + msg}
}

// environment is what Lambda gives a function process, in three layers:
// defaults the function may override (dummy credentials, Duro's endpoint),
// the function's own variables, and the variables Lambda reserves.
func (h *host) environment(fn engine.FunctionConfiguration, code string, slots int, extra map[string]string) []string {
	env := map[string]string{
		"AWS_ACCESS_KEY_ID":         "duro",
		"AWS_SECRET_ACCESS_KEY":     "duro",
		"AWS_SESSION_TOKEN":         "duro",
		"AWS_EC2_METADATA_DISABLED": "true",
		"LANG":                      "en_US.UTF-8",
	}
	// The host's PATH finds interpreters and tools; HOME keeps npm and
	// friends happy. Nothing else of Duro's environment leaks in.
	for _, k := range []string{"PATH", "HOME"} {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	if h.cfg.EndpointURL != "" {
		env["AWS_ENDPOINT_URL_LAMBDA"] = h.cfg.EndpointURL
		if h.cfg.EndpointSocket != "" {
			env["DURO_ENDPOINT_URL"] = h.cfg.EndpointURL
			env["DURO_ENDPOINT_SOCKET"] = h.cfg.EndpointSocket
		}
	}
	for k, v := range extra {
		env[k] = v
	}
	if fn.Environment != nil {
		for k, v := range fn.Environment.Variables {
			env[k] = v
		}
	}
	for k, v := range map[string]string{
		"AWS_REGION":                      h.cfg.Region,
		"AWS_DEFAULT_REGION":              h.cfg.Region,
		"AWS_LAMBDA_FUNCTION_NAME":        fn.FunctionName,
		"AWS_LAMBDA_FUNCTION_VERSION":     fn.Version,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(int(fn.MemorySize)),
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + fn.FunctionName,
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_EXECUTION_ENV":               "AWS_Lambda_" + fn.Runtime,
		"_HANDLER":                        fn.Handler,
		"LAMBDA_TASK_ROOT":                code,
		"LAMBDA_RUNTIME_DIR":              h.runtimeDir,
		"TZ":                              ":UTC",
	} {
		env[k] = v
	}
	// The Runtime API contract of managed instances: the runtime may keep
	// this many /next requests open at once.
	if slots > 1 {
		env["AWS_LAMBDA_MAX_CONCURRENCY"] = strconv.Itoa(slots)
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}
