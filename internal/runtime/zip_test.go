package runtime

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestZipDirRoundTrip packs a directory as a deployment package and unpacks
// it the way a function's code is installed: files, sub-directories, modes
// and linked files come back; .git and dangling links stay out.
func TestZipDirRoundTrip(t *testing.T) {
	src := t.TempDir()
	files := map[string]struct {
		body string
		mode os.FileMode
	}{
		"index.mjs":           {"export const handler = async () => 1;\n", 0o644},
		"lib/util.mjs":        {"export const x = 1;\n", 0o644},
		"bin/run":             {"#!/bin/sh\n", 0o755},
		".git/config":         {"[core]\n", 0o644},
		"node_modules/a/x.js": {"module.exports = 1;\n", 0o644},
	}
	for name, f := range files {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.body), f.mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("lib/util.mjs", filepath.Join(src, "linked.mjs")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("missing", filepath.Join(src, "dangling")); err != nil {
		t.Fatal(err)
	}

	b, err := ZipDir(src)
	if err != nil {
		t.Fatalf("ZipDir: %v", err)
	}
	dst := t.TempDir()
	if err := unzipTo(context.Background(), b, dst, defaultUnzipLimits); err != nil {
		t.Fatalf("unzip: %v", err)
	}
	want := map[string]string{
		"index.mjs": files["index.mjs"].body, "lib/util.mjs": files["lib/util.mjs"].body, "bin/run": files["bin/run"].body,
		"node_modules/a/x.js": files["node_modules/a/x.js"].body, "linked.mjs": files["lib/util.mjs"].body,
	}
	for name, body := range want {
		got, err := os.ReadFile(filepath.Join(dst, name))
		if err != nil || string(got) != body {
			t.Errorf("%s after the round trip: %q, %v; want %q", name, got, err, body)
		}
	}
	if fi, err := os.Stat(filepath.Join(dst, "bin/run")); err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Errorf("bin/run lost its executable mode: %v, %v", fi, err)
	}
	for _, gone := range []string{".git", "dangling"} {
		if _, err := os.Lstat(filepath.Join(dst, gone)); !os.IsNotExist(err) {
			t.Errorf("%s was packed (%v)", gone, err)
		}
	}
	if _, err := ZipDir(filepath.Join(src, "index.mjs")); err == nil {
		t.Error("ZipDir of a file succeeded")
	}
}
