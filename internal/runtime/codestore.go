package runtime

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/duro-run/duro/internal/engine"
)

// CodeStore implements engine.CodeStore on the local file system: each
// archive is unpacked (safely, see unzip.go) into
// <dir>/<function>/<sha256-hex>/, which becomes the function's
// LAMBDA_TASK_ROOT. The same archive is unpacked only once, so saving it
// again (a re-deploy, a publish) is cheap and never disturbs running
// workers; a different archive gets a different directory, which is what
// makes the process pools start fresh workers after a code change.
//
// Directories of code no function uses any more are not removed yet.
type CodeStore struct {
	dir    string
	limits unzipLimits
}

var _ engine.CodeStore = (*CodeStore)(nil)

// NewCodeStore returns a CodeStore keeping code under dir (usually
// <data-dir>/code). The directory is made absolute: locations are stored
// with the function and must not depend on Duro's working directory.
func NewCodeStore(dir string) *CodeStore {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return &CodeStore{dir: dir, limits: defaultUnzipLimits}
}

// SaveZip implements engine.CodeStore. A malformed or unsafe archive is an
// InvalidParameterValueException; a failure to write is a service error.
func (c *CodeStore) SaveZip(ctx context.Context, function string, zip []byte) (engine.CodeInfo, error) {
	if function == "" || !filepath.IsLocal(function) || strings.ContainsAny(function, `/\`) {
		return engine.CodeInfo{}, engine.Errorf(engine.KindInvalidParameter, "Invalid function name for code: %q", function)
	}
	sum := sha256.Sum256(zip)
	info := engine.CodeInfo{
		Location: filepath.Join(c.dir, function, hex.EncodeToString(sum[:])),
		Sha256:   base64.StdEncoding.EncodeToString(sum[:]),
		Size:     int64(len(zip)),
	}
	if fi, err := os.Stat(info.Location); err == nil && fi.IsDir() {
		return info, nil // already unpacked: same bytes, same tree
	}
	parent := filepath.Dir(info.Location)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return engine.CodeInfo{}, engine.Errorf(engine.KindService, "store function code: %v", err)
	}
	// Unpack next to the final directory and rename it into place, so that
	// a crash or a concurrent save never leaves a half-written tree where a
	// worker could load it.
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	tmp := filepath.Join(parent, ".tmp-"+hex.EncodeToString(nonce[:]))
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return engine.CodeInfo{}, engine.Errorf(engine.KindService, "store function code: %v", err)
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	if err := unzipTo(ctx, zip, tmp, c.limits); err != nil {
		var ee *engine.Error
		if errors.As(err, &ee) {
			return engine.CodeInfo{}, err
		}
		var ue *unzipError
		if errors.As(err, &ue) {
			return engine.CodeInfo{}, engine.Errorf(engine.KindInvalidParameter,
				"Could not unzip uploaded file. Please check your file, then try to upload again. (%s)", ue.msg)
		}
		return engine.CodeInfo{}, engine.Errorf(engine.KindService, "store function code: %v", err)
	}
	if err := os.Rename(tmp, info.Location); err != nil {
		// A concurrent save of the same archive won the race: its tree is
		// identical.
		if fi, serr := os.Stat(info.Location); serr == nil && fi.IsDir() {
			return info, nil
		}
		return engine.CodeInfo{}, engine.Errorf(engine.KindService, "store function code: %v", fmt.Errorf("rename: %w", err))
	}
	return info, nil
}
