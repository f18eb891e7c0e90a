package sam

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/duro-run/duro/internal/engine"
)

// readParameters computes every parameter's value from the overrides and
// the Defaults.
func (p *parser) readParameters(n *yaml.Node) error {
	declared := map[string]bool{}
	if !isNull(n) {
		if n.Kind != yaml.MappingNode {
			return p.sectionErr("Parameters", n, "must be a mapping, got %s", describe(n))
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			name := n.Content[i].Value
			declared[name] = true
			if err := p.readParameter(name, deref(n.Content[i+1])); err != nil {
				return err
			}
		}
	}
	var unknown []string
	for name := range p.opts.Parameters {
		if !declared[name] {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		p.warn("parameter override %s: the template declares no such parameter", name)
	}
	return nil
}

func (p *parser) readParameter(name string, def *yaml.Node) error {
	section := "Parameters." + name
	if def == nil || def.Kind != yaml.MappingNode {
		return p.sectionErr(section, def, "must be a mapping with a Type, got %s", describe(def))
	}
	typ := ""
	if t := mapGet(def, "Type"); t != nil && t.Kind == yaml.ScalarNode {
		typ = t.Value
	}
	if typ == "" {
		return p.sectionErr(section, def, "Type is required")
	}
	isList := typ == "CommaDelimitedList" || strings.HasPrefix(typ, "List<")
	var raw string
	if v, ok := p.opts.Parameters[name]; ok {
		raw = v
	} else if d := mapGet(def, "Default"); d != nil {
		switch {
		case d.Kind == yaml.ScalarNode:
			raw = d.Value
		case d.Kind == yaml.SequenceNode && isList:
			parts := make([]string, 0, len(d.Content))
			for _, c := range d.Content {
				parts = append(parts, deref(c).Value)
			}
			raw = strings.Join(parts, ",")
		default:
			return p.sectionErr(section, d, "Default must be a string, got %s", describe(d))
		}
	} else {
		return p.sectionErr(section, def, "has no Default and no value was given for it")
	}
	if allowed := mapGet(def, "AllowedValues"); allowed != nil && allowed.Kind == yaml.SequenceNode {
		values := isListValue(raw, isList)
		for _, v := range values {
			found := false
			for _, a := range allowed.Content {
				if deref(a).Value == v {
					found = true
					break
				}
			}
			if !found {
				return p.sectionErr(section, allowed, "value %q is not one of its AllowedValues", v)
			}
		}
	}
	if typ == "Number" || typ == "List<Number>" {
		for _, v := range isListValue(raw, isList) {
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				return p.sectionErr(section, def, "value %q is not a number", v)
			}
		}
	}
	if strings.HasPrefix(typ, "AWS::SSM::Parameter::") {
		p.warn("%s: type %s is not looked up in SSM; the value %q is used as is", section, typ, raw)
	}
	if isList {
		seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, v := range isListValue(raw, true) {
			seq.Content = append(seq.Content, strNode(v))
		}
		p.params[name] = seq
	} else {
		p.params[name] = strNode(raw)
	}
	p.t.Parameters[name] = raw
	return nil
}

// isListValue splits a list parameter's value on commas.
func isListValue(raw string, isList bool) []string {
	if !isList {
		return []string{raw}
	}
	if raw == "" {
		return nil
	}
	parts := strings.Split(raw, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// readGlobals keeps Globals.Function; other globals (Api, HttpApi, …)
// concern resources Duro does not run.
func (p *parser) readGlobals(n *yaml.Node) error {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return p.sectionErr("Globals", n, "must be a mapping, got %s", describe(n))
	}
	f := mapGet(n, "Function")
	if isNull(f) {
		return nil
	}
	if f.Kind != yaml.MappingNode {
		return p.sectionErr("Globals.Function", f, "must be a mapping, got %s", describe(f))
	}
	p.globals = f
	return nil
}

// prop evaluates a property of r; nil when absent (or AWS::NoValue).
func (p *parser) prop(r *resource, name string) (*yaml.Node, where, error) {
	w := where{resource: r.id, prop: name}
	raw := mapGet(r.props, name)
	if raw == nil {
		return nil, w, nil
	}
	w.fromGlobals = r.typ == TypeServerlessFunction && raw == mapGet(p.globals, name)
	v, err := p.eval(w, raw)
	if err != nil {
		return nil, w, err
	}
	if isNull(v) {
		return nil, w, nil
	}
	return v, w, nil
}

// stringProp evaluates a string property ("" when absent).
func (p *parser) stringProp(r *resource, name string) (string, error) {
	v, w, err := p.prop(r, name)
	if err != nil || v == nil {
		return "", err
	}
	return p.str(w, v)
}

// Bounds from the Lambda API model.
const (
	minTimeout, maxTimeout                   = 1, 5400
	minMemory, maxMemory                     = 128, 32768
	minExecutionTimeout, maxExecutionTimeout = 1, 31622400
	minRetention, maxRetention               = 1, 90
)

var envNameRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]+$`)

// function builds the Function for a function resource.
func (p *parser) function(r *resource) (Function, error) {
	name, err := p.functionName(r)
	if err != nil {
		return Function{}, err
	}
	fn := Function{LogicalID: r.id, Type: r.typ, FunctionName: name, GeneratedName: !r.explicitName, Arn: p.functionArn(name)}

	if pt, err := p.stringProp(r, "PackageType"); err != nil {
		return fn, err
	} else if strings.EqualFold(pt, "Image") || mapGet(r.props, "ImageUri") != nil {
		return fn, &Error{File: p.file, Resource: r.id, Property: "PackageType", Line: line(r.node),
			Err: fmt.Errorf("container image functions are not supported by duro dev; use a zip function with a CodeUri directory")}
	}
	if fn.CodeUri, err = p.codeDir(r); err != nil {
		return fn, err
	}
	if fn.Runtime, err = p.stringProp(r, "Runtime"); err != nil {
		return fn, err
	}
	if fn.Runtime == "" {
		return fn, &Error{File: p.file, Resource: r.id, Property: "Runtime", Line: line(r.node), Err: fmt.Errorf("is required")}
	}
	if fn.Handler, err = p.stringProp(r, "Handler"); err != nil {
		return fn, err
	}
	if fn.Handler == "" && !strings.HasPrefix(fn.Runtime, "provided") {
		return fn, &Error{File: p.file, Resource: r.id, Property: "Handler", Line: line(r.node), Err: fmt.Errorf("is required for runtime %s", fn.Runtime)}
	}
	if fn.Description, err = p.stringProp(r, "Description"); err != nil {
		return fn, err
	}
	if fn.Role, err = p.stringProp(r, "Role"); err != nil {
		return fn, err
	}
	if fn.Role == "" && r.typ == TypeServerlessFunction {
		fn.Role = p.roleArn(r.id + "Role")
	}
	if v, w, err := p.prop(r, "Timeout"); err != nil {
		return fn, err
	} else if v != nil {
		t, err := p.int32In(w, v, minTimeout, maxTimeout)
		if err != nil {
			return fn, err
		}
		fn.Timeout = &t
	}
	if v, w, err := p.prop(r, "MemorySize"); err != nil {
		return fn, err
	} else if v != nil {
		m, err := p.int32In(w, v, minMemory, maxMemory)
		if err != nil {
			return fn, err
		}
		fn.MemorySize = &m
	}
	if fn.Environment, err = p.environment(r); err != nil {
		return fn, err
	}
	if fn.DurableConfig, err = p.durableConfig(r); err != nil {
		return fn, err
	}
	if fn.CapacityProvider, err = p.capacityProvider(r); err != nil {
		return fn, err
	}
	if fn.Architectures, err = p.architectures(r); err != nil {
		return fn, err
	}
	if tm := mapGet(r.node, "TestingMetadata"); tm != nil {
		m, err := rawMapping(tm)
		if err != nil {
			return fn, &Error{File: p.file, Resource: r.id, Property: "TestingMetadata", Line: line(tm), Err: err}
		}
		fn.TestingMetadata = m
		switch ids := m["TestDescription"].(type) {
		case []any:
			for _, id := range ids {
				if id != nil {
					fn.TestIDs = append(fn.TestIDs, fmt.Sprint(id))
				}
			}
		case nil:
		default:
			fn.TestIDs = []string{fmt.Sprint(ids)}
		}
	}
	if mapGet(r.props, "Layers") != nil {
		p.warn("resource %s: property Layers is ignored (duro does not provide layers; vendor the code into CodeUri)", r.id)
	}
	if bm := mapGet(mapGet(r.node, "Metadata"), "BuildMethod"); bm != nil && bm.Kind == yaml.ScalarNode {
		p.warn("resource %s: Metadata.BuildMethod %s is not run by duro; the code in %s is used as is", r.id, bm.Value, fn.CodeUri)
	}
	return fn, nil
}

// codeDir resolves CodeUri (Code for AWS::Lambda::Function) to an
// existing directory.
func (p *parser) codeDir(r *resource) (string, error) {
	prop := "CodeUri"
	if r.typ == TypeLambdaFunction {
		prop = "Code"
	} else if mapGet(r.props, "InlineCode") != nil {
		return "", &Error{File: p.file, Resource: r.id, Property: "InlineCode", Line: line(mapGet(r.props, "InlineCode")),
			Err: fmt.Errorf("inline code is not supported by duro dev; put the code in a directory and set CodeUri")}
	}
	raw := mapGet(r.props, prop)
	w := where{resource: r.id, prop: prop}
	if raw != nil && !isIntrinsic(raw) && raw.Kind == yaml.MappingNode {
		if mapGet(raw, "ZipFile") != nil {
			return "", p.errAt(w, raw, "inline code (ZipFile) is not supported by duro dev; set %s to a directory", prop)
		}
		return "", p.errAt(w, raw, "an S3 location cannot be run locally; set %s to a directory next to the template", prop)
	}
	rel := "."
	if raw != nil {
		v, err := p.eval(w, raw)
		if err != nil {
			return "", err
		}
		if v != nil {
			if rel, err = p.str(w, v); err != nil {
				return "", err
			}
		}
	} else if r.typ == TypeLambdaFunction {
		return "", p.errAt(w, r.node, "is required")
	}
	if strings.HasPrefix(rel, "s3://") {
		return "", p.errAt(w, raw, "an S3 location (%s) cannot be run locally; set %s to a directory next to the template", rel, prop)
	}
	dir := rel
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(p.dir, dir)
	}
	dir = filepath.Clean(dir)
	st, err := os.Stat(dir)
	switch {
	case os.IsNotExist(err):
		return "", p.errAt(w, raw, "directory %q does not exist (resolved to %s)", rel, dir)
	case err != nil:
		return "", p.errAt(w, raw, "%v", err)
	case !st.IsDir():
		return "", p.errAt(w, raw, "%q is a file, not a directory (zip archives are not supported here; point %s at the unpacked code)", rel, prop)
	}
	return dir, nil
}

func (p *parser) environment(r *resource) (map[string]string, error) {
	env, w, err := p.prop(r, "Environment")
	if err != nil || env == nil {
		return nil, err
	}
	if env.Kind != yaml.MappingNode {
		return nil, p.errAt(w, env, "must be a mapping with Variables, got %s", describe(env))
	}
	vars := mapGet(env, "Variables")
	w = w.key("Variables")
	if isNull(vars) {
		return nil, nil
	}
	if vars.Kind != yaml.MappingNode {
		return nil, p.errAt(w, vars, "must be a mapping of names to strings, got %s", describe(vars))
	}
	out := make(map[string]string, len(vars.Content)/2)
	for i := 0; i+1 < len(vars.Content); i += 2 {
		k, v := vars.Content[i].Value, vars.Content[i+1]
		kw := w.key(k)
		if !envNameRE.MatchString(k) {
			return nil, p.errAt(kw, vars.Content[i], "%q is not a valid environment variable name (a letter, then letters, digits or '_')", k)
		}
		s, err := p.str(kw, v)
		if err != nil {
			return nil, err
		}
		out[k] = s
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func (p *parser) durableConfig(r *resource) (*DurableConfig, error) {
	dc, w, err := p.prop(r, "DurableConfig")
	if err != nil || dc == nil {
		return nil, err
	}
	if dc.Kind != yaml.MappingNode {
		return nil, p.errAt(w, dc, "must be a mapping, got %s", describe(dc))
	}
	out := &DurableConfig{}
	if v := mapGet(dc, "ExecutionTimeout"); !isNull(v) {
		t, err := p.int32In(w.key("ExecutionTimeout"), v, minExecutionTimeout, maxExecutionTimeout)
		if err != nil {
			return nil, err
		}
		out.ExecutionTimeout = &t
	}
	if v := mapGet(dc, "RetentionPeriodInDays"); !isNull(v) {
		d, err := p.int32In(w.key("RetentionPeriodInDays"), v, minRetention, maxRetention)
		if err != nil {
			return nil, err
		}
		out.RetentionPeriodInDays = &d
	}
	if v := mapGet(dc, "KMSKeyArn"); !isNull(v) {
		if out.KMSKeyArn, err = p.str(w.key("KMSKeyArn"), v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// capacityProvider reads CapacityProviderConfig: SAM's shape on
// AWS::Serverless::Function, CloudFormation's on AWS::Lambda::Function.
func (p *parser) capacityProvider(r *resource) (*CapacityProvider, error) {
	v, w, err := p.prop(r, "CapacityProviderConfig")
	if err != nil || v == nil {
		return nil, err
	}
	if v.Kind != yaml.MappingNode {
		return nil, p.errAt(w, v, "must be a mapping, got %s", describe(v))
	}
	arnKey := "Arn"
	if r.typ == TypeLambdaFunction {
		w = w.key("LambdaManagedInstancesCapacityProviderConfig")
		mi := mapGet(v, "LambdaManagedInstancesCapacityProviderConfig")
		if mi == nil || mi.Kind != yaml.MappingNode {
			return nil, p.errAt(w, v, "must be a mapping, got %s", describe(mi))
		}
		v = mi
		arnKey = "CapacityProviderArn"
	}
	out := &CapacityProvider{}
	a := mapGet(v, arnKey)
	if isNull(a) {
		return nil, p.errAt(w.key(arnKey), v, "is required")
	}
	if out.Arn, err = p.str(w.key(arnKey), a); err != nil {
		return nil, err
	}
	if !capacityProviderArn.MatchString(out.Arn) {
		return nil, p.errAt(w.key(arnKey), a, "%q is not a capacity provider ARN (arn:aws:lambda:REGION:ACCOUNT:capacity-provider:NAME)", out.Arn)
	}
	if c := mapGet(v, "PerExecutionEnvironmentMaxConcurrency"); !isNull(c) {
		n, err := p.int32In(w.key("PerExecutionEnvironmentMaxConcurrency"), c, 1, engine.MaxEnvironmentConcurrency)
		if err != nil {
			return nil, err
		}
		out.MaxConcurrency = &n
	}
	if m := mapGet(v, "ExecutionEnvironmentMemoryGiBPerVCpu"); !isNull(m) {
		f, err := strconv.ParseFloat(strings.TrimSpace(m.Value), 64)
		if m.Kind != yaml.ScalarNode || err != nil {
			return nil, p.errAt(w.key("ExecutionEnvironmentMemoryGiBPerVCpu"), m, "must be a number, got %s", describe(m))
		}
		if f < engine.MinMemoryGiBPerVCpu || f > engine.MaxMemoryGiBPerVCpu {
			return nil, p.errAt(w.key("ExecutionEnvironmentMemoryGiBPerVCpu"), m, "must be between %d and %d, got %v",
				engine.MinMemoryGiBPerVCpu, engine.MaxMemoryGiBPerVCpu, f)
		}
		out.MemoryGiBPerVCpu = &f
	}
	return out, nil
}

// capacityProviderArn is the model's CapacityProviderArn pattern.
var capacityProviderArn = regexp.MustCompile(`^(?:` + engine.CapacityProviderArnPattern + `)$`)

var architectures = []string{"x86_64", "arm64"}

func (p *parser) architectures(r *resource) ([]string, error) {
	v, w, err := p.prop(r, "Architectures")
	if err != nil || v == nil {
		return nil, err
	}
	if v.Kind != yaml.SequenceNode || len(v.Content) != 1 {
		return nil, p.errAt(w, v, "must be a list of one architecture (x86_64 or arm64), got %s", describe(v))
	}
	a, err := p.str(w.index(0), v.Content[0])
	if err != nil {
		return nil, err
	}
	if !slices.Contains(architectures, a) {
		return nil, p.errAt(w.index(0), v.Content[0], "must be x86_64 or arm64, got %q", a)
	}
	return []string{a}, nil
}

// Lookup returns the function whose logical ID or function name is name,
// or nil.
func (t *Template) Lookup(name string) *Function {
	for i := range t.Functions {
		if t.Functions[i].LogicalID == name || t.Functions[i].FunctionName == name {
			return &t.Functions[i]
		}
	}
	return nil
}
