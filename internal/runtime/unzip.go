package runtime

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/duro-run/duro/internal/engine"
)

// unzipLimits bound what an archive may unpack to.
type unzipLimits struct {
	// MaxBytes is the total uncompressed size (Lambda: 250 MB).
	MaxBytes int64
	// MaxEntries is the number of files, directories and links.
	MaxEntries int
}

// defaultUnzipLimits follow Lambda's deployment package quota. Lambda has
// no entry count limit as such; this one only stops zip bombs made of
// empty entries, far above what node_modules trees need.
var defaultUnzipLimits = unzipLimits{MaxBytes: 262_144_000, MaxEntries: 100_000}

// unzipError is an archive the store refuses; its message is for the
// client.
type unzipError struct{ msg string }

func (e *unzipError) Error() string { return e.msg }

func badZip(format string, args ...any) error { return &unzipError{msg: fmt.Sprintf(format, args...)} }

// errTooBig is an archive whose content exceeds the size limit.
var errTooBig = errors.New("archive content too large")

// tooBig is Lambda's answer to an oversized deployment package.
func tooBig(lim unzipLimits) error {
	return engine.Errorf(engine.KindInvalidParameter, "Unzipped size must be smaller than %d bytes", lim.MaxBytes)
}

// maxSymlinkHops bounds symlink resolution, like the kernel's ELOOP limit.
const maxSymlinkHops = 40

// unzipTo unpacks an archive into the empty directory dst. It refuses
// entries that would land outside dst: absolute names, ".." components,
// entries below a symlink, and symlinks whose target (resolved through the
// archive's other symlinks) leaves the tree. It keeps executable bits and
// makes everything readable. Symlinks are created last, so that no file is
// ever written through one.
func unzipTo(ctx context.Context, data []byte, dst string, lim unzipLimits) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return badZip("%v", err)
	}
	if len(zr.File) > lim.MaxEntries {
		return badZip("the archive has %d entries, more than the %d allowed", len(zr.File), lim.MaxEntries)
	}

	// First pass: validate every name, classify entries, and check sizes
	// against what the archive declares (the copy below enforces the real
	// sizes, which a hostile archive may misstate).
	type entry struct {
		f    *zip.File
		name string // cleaned, slash-separated, relative
	}
	var files, dirs, links []entry
	kinds := map[string]fs.FileMode{}
	var declared uint64
	for _, f := range zr.File {
		name, err := entryName(f.Name)
		if err != nil {
			return err
		}
		if name == "." {
			continue
		}
		mode := f.Mode()
		kind := mode.Type()
		switch {
		case kind == fs.ModeSymlink:
			links = append(links, entry{f, name})
		case mode.IsDir() || strings.HasSuffix(f.Name, "/"):
			kind = fs.ModeDir
			dirs = append(dirs, entry{f, name})
		case kind == 0:
			files = append(files, entry{f, name})
			declared += f.UncompressedSize64
		default:
			return badZip("entry %q is a %v, not a file, directory or symlink", f.Name, kind)
		}
		if prev, dup := kinds[name]; dup && !(prev == fs.ModeDir && kind == fs.ModeDir) {
			return badZip("entry %q appears twice", f.Name)
		}
		kinds[name] = kind
	}
	if declared > uint64(lim.MaxBytes) {
		return tooBig(lim)
	}
	// No entry may live below a symlink: writing it would follow the link.
	for name := range kinds {
		for p := path.Dir(name); p != "."; p = path.Dir(p) {
			if kinds[p] == fs.ModeSymlink {
				return badZip("entry %q is below the symlink %q", name, p)
			}
			if k, ok := kinds[p]; ok && k != fs.ModeDir {
				return badZip("entry %q is below the file %q", name, p)
			}
		}
	}

	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(dst, filepath.FromSlash(d.name)), 0o755); err != nil {
			return fmt.Errorf("create directory %s: %w", d.name, err)
		}
	}
	remaining := lim.MaxBytes
	for _, e := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := extractFile(e.f, filepath.Join(dst, filepath.FromSlash(e.name)), remaining)
		if errors.Is(err, errTooBig) {
			return tooBig(lim)
		}
		if err != nil {
			return err
		}
		remaining -= n
	}

	targets := map[string]string{}
	for _, l := range links {
		target, err := readLink(l.f)
		if err != nil {
			return err
		}
		targets[l.name] = target
	}
	for _, l := range links {
		if err := checkLink(l.name, targets); err != nil {
			return err
		}
		p := filepath.Join(dst, filepath.FromSlash(l.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("create directory for %s: %w", l.name, err)
		}
		if err := os.Symlink(targets[l.name], p); err != nil {
			return fmt.Errorf("create symlink %s: %w", l.name, err)
		}
	}
	return nil
}

// entryName validates an archive entry name and returns it cleaned.
func entryName(raw string) (string, error) {
	if raw == "" || strings.ContainsRune(raw, 0) {
		return "", badZip("entry %q has an invalid name", raw)
	}
	// Some Windows tools write backslashes as separators; a name that uses
	// them to climb out is just as hostile.
	name := strings.ReplaceAll(raw, `\`, "/")
	if strings.HasPrefix(name, "/") || (len(name) > 1 && name[1] == ':') {
		return "", badZip("entry %q has an absolute path", raw)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", badZip("entry %q escapes the code directory", raw)
		}
	}
	clean := path.Clean(name)
	if !filepath.IsLocal(filepath.FromSlash(clean)) && clean != "." {
		return "", badZip("entry %q escapes the code directory", raw)
	}
	return clean, nil
}

// extractFile writes one regular file, refusing to write more than budget
// bytes. Executable bits are kept; everything is made readable, as Lambda
// does, so that a 0600 file from the author's machine still loads.
func extractFile(f *zip.File, dst string, budget int64) (int64, error) {
	perm := fs.FileMode(0o644)
	if f.Mode().Perm()&0o111 != 0 {
		perm = 0o755
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return 0, fmt.Errorf("create directory for %s: %w", f.Name, err)
	}
	rc, err := f.Open()
	if err != nil {
		return 0, badZip("entry %q: %v", f.Name, err)
	}
	defer rc.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return 0, fmt.Errorf("create %s: %w", f.Name, err)
	}
	n, err := io.Copy(out, io.LimitReader(rc, budget+1))
	if cerr := out.Close(); err == nil && cerr != nil {
		return n, fmt.Errorf("write %s: %w", f.Name, cerr)
	}
	if err != nil {
		if errors.Is(err, zip.ErrChecksum) || errors.Is(err, zip.ErrFormat) || errors.Is(err, io.ErrUnexpectedEOF) {
			return n, badZip("entry %q: %v", f.Name, err)
		}
		return n, fmt.Errorf("write %s: %w", f.Name, err)
	}
	if n > budget {
		return n, errTooBig
	}
	// The umask may have dropped bits; the mode is part of the code.
	if err := os.Chmod(dst, perm); err != nil {
		return n, fmt.Errorf("chmod %s: %w", f.Name, err)
	}
	return n, nil
}

// readLink returns a symlink entry's target (its content).
func readLink(f *zip.File) (string, error) {
	rc, err := f.Open()
	if err != nil {
		return "", badZip("entry %q: %v", f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 4097))
	if err != nil {
		return "", badZip("entry %q: %v", f.Name, err)
	}
	if len(b) == 0 || len(b) > 4096 || bytes.IndexByte(b, 0) >= 0 {
		return "", badZip("symlink %q has an invalid target", f.Name)
	}
	return string(b), nil
}

// checkLink verifies that the symlink at name, resolved the way the kernel
// would through the archive's other symlinks, stays inside the tree.
// Lexical cleaning is not enough: with "a" -> "." and "b" -> "a/..", the
// kernel resolves b to the tree's parent although "a/.." cleans to ".".
func checkLink(name string, targets map[string]string) error {
	hops := 0
	var resolve func(base []string, target string) ([]string, error)
	resolve = func(base []string, target string) ([]string, error) {
		if strings.HasPrefix(target, "/") {
			return nil, badZip("symlink %q points outside the code directory", name)
		}
		cur := append([]string(nil), base...)
		for _, part := range strings.Split(target, "/") {
			switch part {
			case "", ".":
				continue
			case "..":
				if len(cur) == 0 {
					return nil, badZip("symlink %q points outside the code directory", name)
				}
				cur = cur[:len(cur)-1]
				continue
			}
			cur = append(cur, part)
			if t, ok := targets[strings.Join(cur, "/")]; ok {
				if hops++; hops > maxSymlinkHops {
					return nil, badZip("symlink %q: too many levels of symbolic links", name)
				}
				var err error
				if cur, err = resolve(cur[:len(cur)-1], t); err != nil {
					return nil, err
				}
			}
		}
		return cur, nil
	}
	dir := path.Dir(name)
	var base []string
	if dir != "." {
		base = strings.Split(dir, "/")
	}
	_, err := resolve(base, targets[name])
	return err
}
