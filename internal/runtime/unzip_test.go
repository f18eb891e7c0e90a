package runtime

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duro-run/duro/internal/engine"
)

type zipEntry struct {
	name string
	body string
	mode fs.FileMode
}

func makeZip(t *testing.T, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func link(name, target string) zipEntry {
	return zipEntry{name: name, body: target, mode: fs.ModeSymlink | 0o777}
}

func TestSaveZipUnpacks(t *testing.T) {
	root := t.TempDir()
	cs := NewCodeStore(root)
	archive := makeZip(t,
		zipEntry{name: "index.js", body: "exports.handler = 1", mode: 0o600},
		zipEntry{name: "bin/", mode: fs.ModeDir | 0o755},
		zipEntry{name: "bin/tool", body: "#!/bin/sh\n", mode: 0o700},
		zipEntry{name: "node_modules/typescript/bin/tsc", body: "tsc", mode: 0o755},
		link("node_modules/.bin/tsc", "../typescript/bin/tsc"),
		link("current", "bin"),
	)
	info, err := cs.SaveZip(context.Background(), "fn", archive)
	if err != nil {
		t.Fatalf("SaveZip: %v", err)
	}
	if !strings.HasPrefix(info.Location, filepath.Join(root, "fn")+string(filepath.Separator)) || info.Size != int64(len(archive)) || info.Sha256 == "" {
		t.Fatalf("CodeInfo = %+v", info)
	}
	modes := map[string]fs.FileMode{"index.js": 0o644, "bin/tool": 0o755, "node_modules/typescript/bin/tsc": 0o755}
	for name, want := range modes {
		fi, err := os.Stat(filepath.Join(info.Location, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode().Perm(), want)
		}
	}
	if b, err := os.ReadFile(filepath.Join(info.Location, "node_modules/.bin/tsc")); err != nil || string(b) != "tsc" {
		t.Errorf("reading through the symlink: %q, %v", b, err)
	}

	// Idempotent: the same archive maps to the same, untouched directory.
	marker := filepath.Join(info.Location, "marker")
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	again, err := cs.SaveZip(context.Background(), "fn", archive)
	if err != nil || again != info {
		t.Fatalf("second SaveZip = %+v, %v; want %+v", again, err, info)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("the second SaveZip replaced the tree: %v", err)
	}
	other, err := cs.SaveZip(context.Background(), "fn", makeZip(t, zipEntry{name: "index.js", body: "2"}))
	if err != nil || other.Location == info.Location {
		t.Errorf("a different archive = %+v, %v; want another directory", other, err)
	}
	entries, _ := os.ReadDir(filepath.Join(root, "fn"))
	if len(entries) != 2 {
		t.Errorf("function directory holds %d entries, want 2 (no temporary leftovers)", len(entries))
	}
}

func TestSaveZipRejects(t *testing.T) {
	cases := map[string][]byte{
		"dot-dot":             makeZip(t, zipEntry{name: "../evil", body: "x"}),
		"nested dot-dot":      makeZip(t, zipEntry{name: "a/../../evil", body: "x"}),
		"backslash dot-dot":   makeZip(t, zipEntry{name: `..\evil`, body: "x"}),
		"absolute":            makeZip(t, zipEntry{name: "/etc/evil", body: "x"}),
		"drive letter":        makeZip(t, zipEntry{name: "C:/evil", body: "x"}),
		"symlink up":          makeZip(t, link("l", "../outside")),
		"symlink absolute":    makeZip(t, link("l", "/etc/passwd")),
		"symlink via symlink": makeZip(t, link("a", "."), link("b", "a/..")),
		"symlink loop":        makeZip(t, link("a", "b"), link("b", "a")),
		"entry below symlink": makeZip(t, link("l", "sub"), zipEntry{name: "l/file", body: "x"}),
		"duplicate":           makeZip(t, zipEntry{name: "a", body: "1"}, zipEntry{name: "a", body: "2"}),
		"not a zip":           []byte("plain text"),
	}
	for what, archive := range cases {
		t.Run(what, func(t *testing.T) {
			root := t.TempDir()
			_, err := NewCodeStore(root).SaveZip(context.Background(), "fn", archive)
			var ee *engine.Error
			if !errors.As(err, &ee) || ee.Kind != engine.KindInvalidParameter || !strings.Contains(ee.Message, "Could not unzip uploaded file") {
				t.Fatalf("SaveZip = %v; want InvalidParameterValue 'Could not unzip'", err)
			}
			entries, _ := os.ReadDir(filepath.Join(root, "fn"))
			if len(entries) != 0 {
				t.Errorf("a rejected archive left %d entries behind", len(entries))
			}
			if _, err := os.Lstat(filepath.Join(root, "evil")); err == nil {
				t.Error("an entry escaped the code directory")
			}
		})
	}
}

func TestSaveZipLimits(t *testing.T) {
	cs := NewCodeStore(t.TempDir())
	cs.limits = unzipLimits{MaxBytes: 1000, MaxEntries: 3}
	_, err := cs.SaveZip(context.Background(), "fn", makeZip(t, zipEntry{name: "big", body: strings.Repeat("x", 1001)}))
	var ee *engine.Error
	if !errors.As(err, &ee) || ee.Kind != engine.KindInvalidParameter || !strings.Contains(ee.Message, "Unzipped size must be smaller than 1000 bytes") {
		t.Errorf("oversized: %v", err)
	}
	_, err = cs.SaveZip(context.Background(), "fn", makeZip(t,
		zipEntry{name: "a"}, zipEntry{name: "b"}, zipEntry{name: "c"}, zipEntry{name: "d"}))
	if !errors.As(err, &ee) || ee.Kind != engine.KindInvalidParameter {
		t.Errorf("too many entries: %v", err)
	}
	if _, err := cs.SaveZip(context.Background(), "../fn", makeZip(t, zipEntry{name: "a"})); err == nil {
		t.Error("a function name with a path was accepted")
	}
}

// A zip whose header understates an entry's size is still cut off at the
// limit while copying.
func TestUnzipEnforcesRealSize(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "liar", Method: zip.Store, CompressedSize64: 2000, UncompressedSize64: 10, CRC32: 0})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(bytes.Repeat([]byte("x"), 2000)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	err = unzipTo(context.Background(), buf.Bytes(), t.TempDir(), unzipLimits{MaxBytes: 1000, MaxEntries: 10})
	if err == nil {
		t.Fatal("an archive that lies about its size unpacked past the limit")
	}
}
