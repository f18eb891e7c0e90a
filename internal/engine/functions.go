package engine

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/duro-run/duro/internal/store"
	"github.com/duro-run/duro/internal/uuid"
)

const latest = "$LATEST"

// functionData is the engine-owned part of a function row.
type functionData struct {
	Config FunctionConfiguration `json:"c"`
	// LastVersion is the highest published version, kept on $LATEST.
	LastVersion int `json:"lv,omitempty"`
	// CodeLocation is FunctionConfiguration.CodeLocation, which the wire
	// encoding of Config leaves out.
	CodeLocation string `json:"cl,omitempty"`
}

func decodeFunction(r store.FunctionRow) (functionData, error) {
	var d functionData
	if err := json.Unmarshal(r.Data, &d); err != nil {
		return d, fmt.Errorf("decode function %s:%s: %w", r.Name, r.Version, err)
	}
	d.Config.CodeLocation = d.CodeLocation
	return d, nil
}

func encodeFunction(d functionData) []byte {
	d.CodeLocation = d.Config.CodeLocation
	b, _ := json.Marshal(d)
	return b
}

func lambdaTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-0700") }

// CreateFunction registers a function ($LATEST), and publishes version 1
// when Publish is set.
func (e *Engine) CreateFunction(ctx context.Context, in CreateFunctionInput) (FunctionConfiguration, error) {
	ref, err := e.parseFunctionName(in.FunctionName)
	if err != nil {
		return FunctionConfiguration{}, err
	}
	if ref.Qualifier != "" {
		return FunctionConfiguration{}, Errorf(KindInvalidParameter, "Function name must not be qualified: %s", in.FunctionName)
	}
	cfg := FunctionConfiguration{
		FunctionName: ref.Name, FunctionArn: e.functionArn(ref.Name), Runtime: in.Runtime, Role: in.Role,
		Handler: in.Handler, Description: in.Description, Timeout: 3, MemorySize: 128,
		LastModified: lambdaTime(e.now()), Version: latest, RevisionId: uuid.New(),
		State: "Active", LastUpdateStatus: "Successful", PackageType: "Zip", Architectures: []string{"x86_64"},
		DurableConfig: in.DurableConfig, CapacityProviderConfig: in.CapacityProviderConfig,
	}
	if in.Timeout != nil {
		cfg.Timeout = *in.Timeout
	}
	if in.MemorySize != nil {
		cfg.MemorySize = *in.MemorySize
	}
	if in.PackageType != "" {
		cfg.PackageType = in.PackageType
	}
	if len(in.Architectures) > 0 {
		cfg.Architectures = in.Architectures
	}
	if in.Environment != nil && len(in.Environment.Variables) > 0 {
		cfg.Environment = &EnvironmentResponse{Variables: in.Environment.Variables}
	}
	var code []byte
	if in.Code != nil {
		code = in.Code.ZipFile
	}
	if err := e.saveCode(ctx, &cfg, code, in.LocalCodeDir); err != nil {
		return FunctionConfiguration{}, err
	}
	defer e.functions.clear()
	err = e.store.CreateFunction(ctx, store.FunctionRow{Name: ref.Name, Version: latest, Data: encodeFunction(functionData{Config: cfg})})
	if errors.Is(err, store.ErrExists) {
		return FunctionConfiguration{}, Errorf(KindResourceConflict, "Function already exist: %s", ref.Name)
	}
	if err != nil {
		return FunctionConfiguration{}, internalError("create function", err)
	}
	if in.Publish {
		return e.PublishVersion(ctx, ref.Name, in.Description)
	}
	return cfg, nil
}

// resolveFunction finds a function version from a name label and a
// qualifier; an unqualified reference resolves to $LATEST.
func (e *Engine) resolveFunction(ctx context.Context, name, qualifier string) (FunctionConfiguration, error) {
	return e.readFunction(ctx, name, qualifier, true)
}

// readFunction resolves a function, from the cache when cached is set. The
// public read APIs do not use the cache, so that they always show the
// store's state.
func (e *Engine) readFunction(ctx context.Context, name, qualifier string, cached bool) (FunctionConfiguration, error) {
	ref, err := e.parseFunctionName(name)
	if err != nil {
		return FunctionConfiguration{}, err
	}
	q, err := mergeQualifier(ref, qualifier)
	if err != nil {
		return FunctionConfiguration{}, err
	}
	if q == "" {
		q = latest
	}
	now := time.Now()
	if cfg, ok := e.functions.get(ref.Name, q, now); ok && cached {
		return cfg, nil
	}
	row, err := e.lookupVersion(ctx, ref.Name, q)
	if err != nil {
		return FunctionConfiguration{}, err
	}
	d, err := decodeFunction(row)
	if err != nil {
		return FunctionConfiguration{}, internalError("resolve function", err)
	}
	e.functions.put(ref.Name, q, d.Config, now)
	return d.Config, nil
}

func mergeQualifier(ref functionRef, qualifier string) (string, error) {
	if ref.Qualifier != "" && qualifier != "" && ref.Qualifier != qualifier {
		return "", Errorf(KindInvalidParameter, "The derived qualifier from the function name does not match the specified qualifier.")
	}
	if qualifier == "" {
		return ref.Qualifier, nil
	}
	return qualifier, nil
}

func (e *Engine) lookupVersion(ctx context.Context, name, qualifier string) (store.FunctionRow, error) {
	if qualifier == "$LATEST.PUBLISHED" {
		rows, err := e.store.ListFunctionVersions(ctx, name)
		if err != nil {
			return store.FunctionRow{}, internalError("list versions", err)
		}
		if len(rows) < 2 {
			return store.FunctionRow{}, Errorf(KindNotFound, "Function not found: %s:%s", e.functionArn(name), qualifier)
		}
		return rows[len(rows)-1], nil
	}
	row, err := e.store.GetFunction(ctx, name, qualifier)
	if errors.Is(err, store.ErrNotFound) {
		if qualifier == latest {
			return row, Errorf(KindNotFound, "Function not found: %s", e.functionArn(name))
		}
		return row, Errorf(KindNotFound, "Function not found: %s:%s", e.functionArn(name), qualifier)
	}
	if err != nil {
		return row, internalError("get function", err)
	}
	return row, nil
}

// GetFunction implements Service.
func (e *Engine) GetFunction(ctx context.Context, name, qualifier string) (GetFunctionOutput, error) {
	cfg, err := e.readFunction(ctx, name, qualifier, false)
	if err != nil {
		return GetFunctionOutput{}, err
	}
	return GetFunctionOutput{Configuration: cfg, Code: FunctionCodeLocation{RepositoryType: "S3"}}, nil
}

// GetFunctionConfiguration implements Service.
func (e *Engine) GetFunctionConfiguration(ctx context.Context, name, qualifier string) (FunctionConfiguration, error) {
	return e.readFunction(ctx, name, qualifier, false)
}

// UpdateFunctionConfiguration updates $LATEST.
func (e *Engine) UpdateFunctionConfiguration(ctx context.Context, name string, in UpdateFunctionConfigurationInput) (FunctionConfiguration, error) {
	return e.updateLatest(ctx, name, "update function", func(d *functionData) error {
		c := &d.Config
		if in.RevisionId != nil && *in.RevisionId != c.RevisionId {
			return Errorf(KindInvalidParameter, "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
		}
		setIf(&c.Runtime, in.Runtime)
		setIf(&c.Role, in.Role)
		setIf(&c.Handler, in.Handler)
		setIf(&c.Description, in.Description)
		if in.Timeout != nil {
			c.Timeout = *in.Timeout
		}
		if in.MemorySize != nil {
			c.MemorySize = *in.MemorySize
		}
		if in.Environment != nil {
			c.Environment = nil
			if len(in.Environment.Variables) > 0 {
				c.Environment = &EnvironmentResponse{Variables: in.Environment.Variables}
			}
		}
		if in.DurableConfig != nil {
			c.DurableConfig = in.DurableConfig
		}
		if in.CapacityProviderConfig != nil {
			c.CapacityProviderConfig = in.CapacityProviderConfig
		}
		return nil
	})
}

// updateLatest applies change to $LATEST with optimistic concurrency: on a
// revision conflict it reads the function again and reapplies the change.
// Every update gets a new RevisionId and LastModified.
func (e *Engine) updateLatest(ctx context.Context, name, what string, change func(d *functionData) error) (FunctionConfiguration, error) {
	ref, err := e.parseFunctionName(name)
	if err != nil {
		return FunctionConfiguration{}, err
	}
	defer e.functions.clear()
	for {
		row, err := e.lookupVersion(ctx, ref.Name, latest)
		if err != nil {
			return FunctionConfiguration{}, err
		}
		d, err := decodeFunction(row)
		if err != nil {
			return FunctionConfiguration{}, internalError(what, err)
		}
		if err := change(&d); err != nil {
			return FunctionConfiguration{}, err
		}
		d.Config.RevisionId = uuid.New()
		d.Config.LastModified = lambdaTime(e.now())
		row.Data = encodeFunction(d)
		err = e.store.UpdateFunction(ctx, row)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return FunctionConfiguration{}, internalError(what, err)
		}
		return d.Config, nil
	}
}

func setIf(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

// PublishVersion snapshots $LATEST as the next numbered version.
func (e *Engine) PublishVersion(ctx context.Context, name, description string) (FunctionConfiguration, error) {
	ref, err := e.parseFunctionName(name)
	if err != nil {
		return FunctionConfiguration{}, err
	}
	defer e.functions.clear()
	for {
		row, err := e.lookupVersion(ctx, ref.Name, latest)
		if err != nil {
			return FunctionConfiguration{}, err
		}
		d, err := decodeFunction(row)
		if err != nil {
			return FunctionConfiguration{}, internalError("publish version", err)
		}
		d.LastVersion++
		v := strconv.Itoa(d.LastVersion)
		row.Data = encodeFunction(d)
		if err := e.store.UpdateFunction(ctx, row); errors.Is(err, store.ErrConflict) {
			continue
		} else if err != nil {
			return FunctionConfiguration{}, internalError("publish version", err)
		}
		cfg := d.Config
		cfg.Version = v
		cfg.FunctionArn = e.functionArn(ref.Name) + ":" + v
		if description != "" {
			cfg.Description = description
		}
		cfg.RevisionId = uuid.New()
		if err := e.store.CreateFunction(ctx, store.FunctionRow{Name: ref.Name, Version: v, Data: encodeFunction(functionData{Config: cfg})}); err != nil {
			return FunctionConfiguration{}, internalError("publish version", err)
		}
		return cfg, nil
	}
}

// DeleteFunction removes a function, or one published version.
func (e *Engine) DeleteFunction(ctx context.Context, name, qualifier string) error {
	ref, err := e.parseFunctionName(name)
	if err != nil {
		return err
	}
	q, err := mergeQualifier(ref, qualifier)
	if err != nil {
		return err
	}
	if q == latest {
		return Errorf(KindInvalidParameter, "$LATEST version cannot be deleted without deleting the function.")
	}
	if _, err := e.lookupVersion(ctx, ref.Name, orLatest(q)); err != nil {
		return err
	}
	defer e.functions.clear()
	if err := e.store.DeleteFunction(ctx, ref.Name, q); err != nil {
		return internalError("delete function", err)
	}
	return nil
}

func orLatest(q string) string {
	if q == "" {
		return latest
	}
	return q
}

// ListFunctions lists functions ($LATEST configurations) by name.
func (e *Engine) ListFunctions(ctx context.Context, marker string, maxItems int) (FunctionList, error) {
	if maxItems <= 0 || maxItems > 50 {
		maxItems = 50
	}
	after := ""
	if marker != "" {
		b, err := base64.RawURLEncoding.DecodeString(marker)
		if err != nil {
			return FunctionList{}, Errorf(KindInvalidParameter, "Invalid marker: %s", marker)
		}
		after = string(b)
	}
	rows, err := e.store.ListFunctions(ctx, after, maxItems+1)
	if err != nil {
		return FunctionList{}, internalError("list functions", err)
	}
	out := FunctionList{Functions: []FunctionConfiguration{}}
	for i, r := range rows {
		if i == maxItems {
			out.NextMarker = base64.RawURLEncoding.EncodeToString([]byte(rows[i-1].Name))
			break
		}
		d, err := decodeFunction(r)
		if err != nil {
			return FunctionList{}, internalError("list functions", err)
		}
		out.Functions = append(out.Functions, d.Config)
	}
	return out, nil
}

// ListVersionsByFunction lists all versions of a function.
func (e *Engine) ListVersionsByFunction(ctx context.Context, name, marker string, maxItems int) (FunctionList, error) {
	ref, err := e.parseFunctionName(name)
	if err != nil {
		return FunctionList{}, err
	}
	if _, err := e.lookupVersion(ctx, ref.Name, latest); err != nil {
		return FunctionList{}, err
	}
	rows, err := e.store.ListFunctionVersions(ctx, ref.Name)
	if err != nil {
		return FunctionList{}, internalError("list versions", err)
	}
	if maxItems <= 0 || maxItems > 50 {
		maxItems = 50
	}
	start := 0
	if marker != "" {
		n, err := strconv.Atoi(marker)
		if err != nil || n < 0 {
			return FunctionList{}, Errorf(KindInvalidParameter, "Invalid marker: %s", marker)
		}
		start = n
	}
	out := FunctionList{Versions: []FunctionConfiguration{}}
	for i := start; i < len(rows) && i < start+maxItems; i++ {
		d, err := decodeFunction(rows[i])
		if err != nil {
			return FunctionList{}, internalError("list versions", err)
		}
		out.Versions = append(out.Versions, d.Config)
	}
	if start+maxItems < len(rows) {
		out.NextMarker = strconv.Itoa(start + maxItems)
	}
	return out, nil
}

// saveCode records a function's code: an archive goes to the CodeStore
// (when one is configured), a local directory is used in place.
func (e *Engine) saveCode(ctx context.Context, cfg *FunctionConfiguration, zip []byte, localDir string) error {
	sum := sha256.Sum256(zip)
	cfg.CodeSha256 = base64.StdEncoding.EncodeToString(sum[:])
	cfg.CodeSize = int64(len(zip))
	cfg.CodeLocation = localDir
	if localDir != "" || len(zip) == 0 || e.cfg.Code == nil {
		return nil
	}
	info, err := e.cfg.Code.SaveZip(ctx, cfg.FunctionName, zip)
	if err != nil {
		var ee *Error
		if errors.As(err, &ee) {
			return err
		}
		return Errorf(KindInvalidParameter, "Could not unzip uploaded file. Please check your file, then try to upload again. (%v)", err)
	}
	cfg.CodeLocation, cfg.CodeSha256, cfg.CodeSize = info.Location, info.Sha256, info.Size
	return nil
}

// UpdateFunctionCode replaces $LATEST's code, and publishes a version when
// Publish is set.
func (e *Engine) UpdateFunctionCode(ctx context.Context, name string, in UpdateFunctionCodeInput) (FunctionConfiguration, error) {
	cfg, err := e.updateLatest(ctx, name, "update function code", func(d *functionData) error {
		return e.saveCode(ctx, &d.Config, in.ZipFile, in.LocalCodeDir)
	})
	if err != nil || !in.Publish {
		return cfg, err
	}
	return e.PublishVersion(ctx, cfg.FunctionName, "")
}
