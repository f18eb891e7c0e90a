// Package devenv registers the functions of a SAM template with a Duro
// engine for local development: `duro dev --template` and the conformance
// harness use it. It installs a Node function's dependencies when they are
// missing and keeps registered functions in step with the template.
package devenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/duro-run/duro/internal/engine"
	"github.com/duro-run/duro/internal/sam"
)

// Registry is the part of the engine that deploying needs.
type Registry interface {
	CreateFunction(ctx context.Context, in engine.CreateFunctionInput) (engine.FunctionConfiguration, error)
	UpdateFunctionConfiguration(ctx context.Context, name string, in engine.UpdateFunctionConfigurationInput) (engine.FunctionConfiguration, error)
	UpdateFunctionCode(ctx context.Context, name string, in engine.UpdateFunctionCodeInput) (engine.FunctionConfiguration, error)
}

// Deploy registers every function of a template, creating it or updating an
// existing registration, and returns logical id → function name.
func Deploy(ctx context.Context, reg Registry, t *sam.Template, log *slog.Logger) (map[string]string, error) {
	if log == nil {
		log = slog.Default()
	}
	if err := installDependencies(ctx, t, log); err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, f := range t.Functions {
		in := f.CreateFunctionInput()
		_, err := reg.CreateFunction(ctx, in)
		if engine.KindOf(err) == engine.KindResourceConflict {
			err = update(ctx, reg, in)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: register function %s (%s): %w", t.Path, f.LogicalID, f.FunctionName, err)
		}
		names[f.LogicalID] = f.FunctionName
		log.Info("function registered", "function", f.FunctionName, "runtime", f.Runtime, "code", f.CodeUri)
	}
	return names, nil
}

func update(ctx context.Context, reg Registry, in engine.CreateFunctionInput) error {
	var env *engine.EnvironmentVariables
	if in.Environment != nil {
		env = in.Environment
	} else {
		env = &engine.EnvironmentVariables{}
	}
	_, err := reg.UpdateFunctionConfiguration(ctx, in.FunctionName, engine.UpdateFunctionConfigurationInput{
		Runtime: &in.Runtime, Handler: &in.Handler, Role: &in.Role, Description: &in.Description,
		Timeout: in.Timeout, MemorySize: in.MemorySize, Environment: env, DurableConfig: in.DurableConfig,
		CapacityProviderConfig: in.CapacityProviderConfig,
	})
	if err != nil {
		return err
	}
	_, err = reg.UpdateFunctionCode(ctx, in.FunctionName, engine.UpdateFunctionCodeInput{LocalCodeDir: in.LocalCodeDir})
	return err
}

// installDependencies runs `npm ci` (or `npm install` without a lockfile)
// in each Node code directory that has a package.json but no node_modules.
// Directories shared by several functions are installed once.
func installDependencies(ctx context.Context, t *sam.Template, log *slog.Logger) error {
	done := map[string]bool{}
	for _, f := range t.Functions {
		if !strings.HasPrefix(f.Runtime, "nodejs") || done[f.CodeUri] {
			continue
		}
		done[f.CodeUri] = true
		if err := NpmInstall(ctx, f.CodeUri, log); err != nil {
			return fmt.Errorf("%s: function %s: %w", t.Path, f.LogicalID, err)
		}
	}
	return nil
}

var npmMu sync.Mutex

// NpmInstall installs a Node package's dependencies when node_modules is
// missing. npm may be run once at a time per process: concurrent installs in
// one npm cache are unreliable.
func NpmInstall(ctx context.Context, dir string, log *slog.Logger) error {
	pkg := filepath.Join(dir, "package.json")
	if _, err := os.Stat(pkg); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err == nil {
		return nil
	}
	if log == nil {
		log = slog.Default()
	}
	npmMu.Lock()
	defer npmMu.Unlock()
	args := []string{"install", "--no-audit", "--no-fund"}
	if _, err := os.Stat(filepath.Join(dir, "package-lock.json")); err == nil {
		args = []string{"ci", "--no-audit", "--no-fund"}
	}
	log.Info("installing dependencies", "dir", dir, "command", "npm "+strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, "npm", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NODE_NO_WARNINGS=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("npm %s in %s: %w\n%s", args[0], dir, err, out)
	}
	return nil
}
