package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/duro-run/duro/internal/conformance"
	"github.com/duro-run/duro/internal/conformance/report"
)

// TestConformanceSuite runs the public conformance suite (../shared, beside
// the project) against an in-process Duro with the project's handlers, the
// way `duro conformance` does. DURO_CONFORMANCE_SUITES (comma-separated)
// narrows it for local runs; DURO_CONFORMANCE_PARALLEL sets the parallelism.
func TestConformanceSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("the conformance suite takes minutes; run without -short")
	}
	reqDir, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "conformance", "requirements"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(reqDir); err != nil {
		t.Fatalf("conformance requirements not found beside the project (%s): %v", reqDir, err)
	}
	parallel := 8
	if v := os.Getenv("DURO_CONFORMANCE_PARALLEL"); v != "" {
		if parallel, err = strconv.Atoi(v); err != nil {
			t.Fatalf("DURO_CONFORMANCE_PARALLEL: %v", err)
		}
	}
	var suites []string
	if v := os.Getenv("DURO_CONFORMANCE_SUITES"); v != "" {
		suites = strings.Split(v, ",")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	rep, err := conformance.Run(ctx, conformance.Options{
		RequirementsDir:    reqDir,
		TemplatePath:       filepath.Join("..", "..", "conformance", "template.yaml"),
		Suites:             suites,
		Parallel:           parallel,
		NewDeployer:        inProcessDeployer,
		TemplateLoader:     samBindingLoader{},
		RequirementTimeout: 5 * time.Minute,
		OnResult:           func(r report.Result) { t.Log(r.Line()) },
		Warnf:              func(format string, args ...any) { t.Logf("warning: "+format, args...) },
	})
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	if err := rep.WriteSummary(&sb); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + sb.String())
	if out := os.Getenv("DURO_CONFORMANCE_SUMMARY"); out != "" {
		if err := os.WriteFile(out, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if rep.Failed() {
		t.Fatal("required conformance requirements failed or are uncovered (lines above)")
	}
}
