// Package sam reads AWS SAM (and plain CloudFormation) templates and turns
// their Lambda function resources into function definitions that Duro can
// register, for `duro dev --template template.yaml` and for tests.
//
// The template is parsed with gopkg.in/yaml.v3 into yaml.Node trees, so the
// CloudFormation short-form tags (!Ref, !Sub, !GetAtt, !Join, !If, …) parse
// instead of failing, and JSON templates load too (JSON is YAML).
//
// # What is read
//
// Resources of type AWS::Serverless::Function and AWS::Lambda::Function
// become [Function] values; every other resource is ignored and listed in
// [Template.Warnings]. For each function the package reads FunctionName,
// CodeUri (Code for AWS::Lambda::Function), Handler, Runtime, Description,
// Role, Timeout, MemorySize, Environment.Variables, DurableConfig,
// CapacityProviderConfig (a GetAtt of an AWS::Serverless::CapacityProvider
// or AWS::Lambda::CapacityProvider resource's Arn gives the provider's
// ARN; the provider itself is not provisioned), Architectures and the
// resource-level TestingMetadata block (the
// conformance suite's convention: TestingMetadata.TestDescription lists the
// requirement IDs a function serves). Other properties (Events, Policies,
// Layers, VpcConfig, …) are not interpreted and their values are never
// evaluated, so intrinsics inside them cannot cause errors.
//
// Globals.Function applies to AWS::Serverless::Function resources with SAM's
// merge rules: a scalar set on the resource wins, mappings (such as
// Environment.Variables) merge key by key with the resource winning, lists
// concatenate (globals first) except Architectures, which the resource
// replaces, and an intrinsic function on either side is treated as a scalar.
//
// # Function names
//
// A function's name is its FunctionName property when set (after evaluating
// intrinsics). Otherwise it is the resource's logical ID, as `sam local` uses
// it; CloudFormation's "{stack}-{LogicalId}-{random}" names are deliberately
// not imitated, so that a name is stable across runs and easy to type. Names
// must match Lambda's rule: 1 to 64 letters, digits, hyphens or underscores.
//
// # Intrinsic functions
//
// Ref (parameters, pseudo parameters, function resources → function name),
// Fn::Sub (string and [string, variables] forms, ${Param}, ${Fn},
// ${Fn.Arn}, ${AWS::Region}, ${!Literal}), Fn::GetAtt (Fn.Arn of a function
// →  arn:{partition}:lambda:{region}:{account}:function:{name}; Arn of an
// IAM role, including SAM's implicit {Fn}Role), Fn::Join, Fn::Select,
// Fn::Split, Fn::Base64, Fn::FindInMap, Fn::If with Conditions (Fn::Equals,
// Fn::Not, Fn::And, Fn::Or, Condition) and resource-level Condition, in both
// the long form ({"Fn::Sub": …}) and the short form (!Sub …). Ref and GetAtt
// of a resource Duro does not run (a table, a queue) evaluate to a
// placeholder — the logical ID, or "{LogicalId}.{Attribute}" — with a
// warning. Fn::ImportValue, Fn::GetAZs, Fn::Cidr, Fn::Transform and other
// functions are reported as errors when a property Duro reads uses them.
//
// # Parameters and pseudo parameters
//
// A parameter takes its value from [Options.Parameters], else its Default;
// one with neither is an error, as are a value outside AllowedValues and a
// Number that does not parse. CommaDelimitedList and List<…> parameters
// are lists (comma-separated). AWS::Region, AWS::AccountId and
// AWS::Partition default to Duro's us-east-1, 123456789012 and aws;
// AWS::StackName defaults to the template directory's name. AWS::URLSuffix,
// AWS::StackId, AWS::NotificationARNs and AWS::NoValue (which removes the
// property or list member it is used in) are also known.
//
// # Registering functions
//
// [Function.CreateFunctionInput] turns a definition into the engine's
// CreateFunction request, running from the code directory (LocalCodeDir).
//
// # Errors
//
// Errors are [*Error] values that name the file, the resource and the
// property, e.g.
//
//	template.yaml: resource OrderFn: property Timeout: must be an integer, got "abc"
package sam

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Resource types that become functions.
const (
	TypeServerlessFunction = "AWS::Serverless::Function"
	TypeLambdaFunction     = "AWS::Lambda::Function"
)

// Default values of [Options].
const (
	DefaultRegion    = "us-east-1"
	DefaultAccountID = "123456789012"
	DefaultPartition = "aws"
)

// Options are the inputs of a template evaluation that the template itself
// does not fix. The zero value is usable.
type Options struct {
	// Parameters overrides parameter values (like
	// `sam deploy --parameter-overrides`). A parameter without an override
	// takes its Default; one with neither is an error. List-typed
	// parameters (CommaDelimitedList, List<…>) take comma-separated values.
	Parameters map[string]string
	// Region is AWS::Region and the region in ARNs; default "us-east-1".
	Region string
	// AccountID is AWS::AccountId and the account in ARNs; default
	// "123456789012" (Duro's default account).
	AccountID string
	// Partition is AWS::Partition; default "aws".
	Partition string
	// StackName is AWS::StackName; default the name of the template's
	// directory, reduced to letters, digits and hyphens ("duro" if
	// nothing is left).
	StackName string
}

// Template is the result of reading a template.
type Template struct {
	// Path is the template file as it was named to Load or Parse.
	Path string
	// Dir is the absolute directory relative to which CodeUri is resolved.
	Dir string
	// Functions are the function resources, in template order, without
	// the ones whose Condition is false.
	Functions []Function
	// Parameters are the effective parameter values (list parameters
	// comma-joined).
	Parameters map[string]string
	// TestingMetadata is the template-level TestingMetadata block, raw
	// (nil when absent). The conformance suite keeps NotImplemented there.
	TestingMetadata map[string]any
	// Warnings list what was ignored or approximated: resources of other
	// types, placeholders for resources Duro does not run, skipped
	// resources, unknown parameter overrides.
	Warnings []string
}

// Function is one function resource of a template.
type Function struct {
	// LogicalID is the resource's key under Resources.
	LogicalID string
	// Type is TypeServerlessFunction or TypeLambdaFunction.
	Type string
	// FunctionName is the Lambda function name (see the package comment
	// for the rule when the template does not set one).
	FunctionName string
	// GeneratedName is true when FunctionName came from the logical ID.
	GeneratedName bool
	// Arn is arn:{partition}:lambda:{region}:{account}:function:{name}.
	Arn string
	// CodeUri is the absolute path of the code directory.
	CodeUri string
	// Handler, Runtime, Description and Role are the properties of the
	// same names. Role, when the template leaves it out of a SAM function,
	// is the ARN of SAM's implicit role {LogicalID}Role.
	Handler     string
	Runtime     string
	Description string
	Role        string
	// Timeout and MemorySize are nil when unset (Lambda's defaults apply).
	Timeout    *int32
	MemorySize *int32
	// Environment is Environment.Variables (nil when there are none).
	Environment map[string]string
	// DurableConfig is nil for a function that is not durable.
	DurableConfig *DurableConfig
	// CapacityProvider is nil unless the function runs on managed
	// instances (CapacityProviderConfig).
	CapacityProvider *CapacityProvider
	// Architectures is nil when unset.
	Architectures []string
	// TestingMetadata is the resource-level TestingMetadata block, raw
	// (nil when absent).
	TestingMetadata map[string]any
	// TestIDs is TestingMetadata.TestDescription as a list of strings
	// (a single string is accepted as a one-element list).
	TestIDs []string
}

// DurableConfig is a function's DurableConfig property.
type DurableConfig struct {
	// ExecutionTimeout is in seconds; nil when unset.
	ExecutionTimeout *int32
	// RetentionPeriodInDays is nil when unset.
	RetentionPeriodInDays *int32
	// KMSKeyArn is empty when unset.
	KMSKeyArn string
}

// CapacityProvider is a function's CapacityProviderConfig: SAM's Arn,
// PerExecutionEnvironmentMaxConcurrency and
// ExecutionEnvironmentMemoryGiBPerVCpu, or CloudFormation's
// LambdaManagedInstancesCapacityProviderConfig with the same members.
type CapacityProvider struct {
	// Arn is the capacity provider's ARN.
	Arn string
	// MaxConcurrency is PerExecutionEnvironmentMaxConcurrency; nil when
	// unset.
	MaxConcurrency *int32
	// MemoryGiBPerVCpu is ExecutionEnvironmentMemoryGiBPerVCpu; nil when
	// unset.
	MemoryGiBPerVCpu *float64
}

// Error is a template error. Its message names the file, then the section
// or resource and the property it concerns, then the problem.
type Error struct {
	// File is the template path as given to Load or Parse.
	File string
	// Section names a place outside Resources ("Parameters.Stage",
	// "Conditions.IsProd", "Globals.Function"); empty otherwise.
	Section string
	// Resource is the logical ID; empty for errors outside a resource.
	Resource string
	// Property is a dotted property path ("Environment.Variables.TABLE");
	// empty for errors about the resource as a whole.
	Property string
	// Line is the 1-based line of the offending node, 0 when unknown. It is
	// not part of the message.
	Line int
	// Err is the problem.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Section != "" {
		b.WriteString(": " + e.Section)
	}
	if e.Resource != "" {
		b.WriteString(": resource " + e.Resource)
	}
	if e.Property != "" {
		b.WriteString(": property " + e.Property)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying problem.
func (e *Error) Unwrap() error { return e.Err }

// Load reads and evaluates the template at path.
func Load(path string, opts Options) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read SAM template: %w", err)
	}
	return Parse(data, path, opts)
}

// Parse evaluates a template held in memory. path names the file in
// errors and its directory anchors relative CodeUri values; it is not
// read.
func Parse(data []byte, path string, opts Options) (*Template, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("SAM template %s: %w", path, err)
	}
	p := &parser{file: path, dir: filepath.Dir(abs), opts: opts}
	p.setDefaults()
	if err := p.parse(data); err != nil {
		return nil, err
	}
	return p.t, nil
}

// parser holds the state of one template evaluation.
type parser struct {
	file string
	dir  string
	opts Options
	t    *Template

	params     map[string]*yaml.Node // effective value: scalar, or sequence for list types
	resources  map[string]*resource
	order      []string
	conditions map[string]*yaml.Node
	condValue  map[string]bool
	condBusy   map[string]bool
	mappings   *yaml.Node
	globals    *yaml.Node // Globals.Function mapping, or nil
	warned     map[string]bool
}

// resource is one entry of Resources.
type resource struct {
	id        string
	typ       string
	node      *yaml.Node // the resource mapping
	props     *yaml.Node // Properties, merged with globals for SAM functions
	condition string

	created      *bool // memo of the Condition
	name         string
	nameErr      error
	nameDone     bool
	nameBusy     bool
	explicitName bool
}

func (p *parser) setDefaults() {
	if p.opts.Region == "" {
		p.opts.Region = DefaultRegion
	}
	if p.opts.AccountID == "" {
		p.opts.AccountID = DefaultAccountID
	}
	if p.opts.Partition == "" {
		p.opts.Partition = DefaultPartition
	}
	if p.opts.StackName == "" {
		p.opts.StackName = stackNameFromDir(p.dir)
	}
}

var nonStackChars = regexp.MustCompile(`[^A-Za-z0-9-]+`)

// stackNameFromDir derives a stack name from a directory's base name.
func stackNameFromDir(dir string) string {
	s := nonStackChars.ReplaceAllString(filepath.Base(dir), "-")
	s = strings.TrimLeft(s, "-0123456789")
	s = strings.TrimRight(s, "-")
	if s == "" {
		return "duro"
	}
	if len(s) > 128 {
		s = s[:128]
	}
	return s
}

// sectionErr builds an *Error for a top-level template section.
func (p *parser) sectionErr(section string, n *yaml.Node, format string, args ...any) *Error {
	return &Error{File: p.file, Section: section, Line: line(n), Err: fmt.Errorf(format, args...)}
}

func line(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

// warn records a warning once.
func (p *parser) warn(format string, args ...any) {
	msg := p.file + ": " + fmt.Sprintf(format, args...)
	if p.warned[msg] {
		return
	}
	p.warned[msg] = true
	p.t.Warnings = append(p.t.Warnings, msg)
}

func (p *parser) parse(data []byte) error {
	p.t = &Template{Path: p.file, Dir: p.dir, Parameters: map[string]string{}}
	p.warned = map[string]bool{}
	p.params = map[string]*yaml.Node{}
	p.resources = map[string]*resource{}
	p.conditions = map[string]*yaml.Node{}
	p.condValue = map[string]bool{}
	p.condBusy = map[string]bool{}

	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &Error{File: p.file, Err: errors.New("the template is empty")}
		}
		return &Error{File: p.file, Err: fmt.Errorf("invalid YAML: %w", err)}
	}
	root := deref(&doc)
	if root == nil || root.Kind != yaml.MappingNode {
		return &Error{File: p.file, Line: line(root), Err: errors.New("the template must be a mapping with a Resources section")}
	}
	sections := map[string]*yaml.Node{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		sections[root.Content[i].Value] = deref(root.Content[i+1])
	}
	if err := p.readParameters(sections["Parameters"]); err != nil {
		return err
	}
	if m := sections["Mappings"]; m != nil {
		if m.Kind != yaml.MappingNode {
			return p.sectionErr("Mappings", m, "must be a mapping, got %s", describe(m))
		}
		p.mappings = m
	}
	if c := sections["Conditions"]; c != nil {
		if c.Kind != yaml.MappingNode {
			return p.sectionErr("Conditions", c, "must be a mapping, got %s", describe(c))
		}
		for i := 0; i+1 < len(c.Content); i += 2 {
			p.conditions[c.Content[i].Value] = c.Content[i+1]
		}
	}
	if err := p.readGlobals(sections["Globals"]); err != nil {
		return err
	}
	if tm := sections["TestingMetadata"]; tm != nil {
		m, err := rawMapping(tm)
		if err != nil {
			return p.sectionErr("TestingMetadata", tm, "%v", err)
		}
		p.t.TestingMetadata = m
	}
	res := sections["Resources"]
	if res == nil {
		return &Error{File: p.file, Err: errors.New("the template has no Resources section")}
	}
	if res.Kind != yaml.MappingNode {
		return p.sectionErr("Resources", res, "must be a mapping, got %s", describe(res))
	}
	if err := p.readResources(res); err != nil {
		return err
	}
	for _, id := range p.order {
		r := p.resources[id]
		if !isFunctionType(r.typ) {
			p.warn("resource %s: type %s is ignored (duro runs only %s and %s resources)", id, r.typ, TypeServerlessFunction, TypeLambdaFunction)
			continue
		}
		ok, err := p.created(r)
		if err != nil {
			return err
		}
		if !ok {
			p.warn("resource %s: skipped, its condition %s is false", id, r.condition)
			continue
		}
		fn, err := p.function(r)
		if err != nil {
			return err
		}
		p.t.Functions = append(p.t.Functions, fn)
	}
	seen := map[string]string{}
	for _, fn := range p.t.Functions {
		if other, dup := seen[fn.FunctionName]; dup {
			r := p.resources[fn.LogicalID]
			at := mapGet(r.props, "FunctionName")
			if at == nil {
				at = r.node
			}
			return &Error{File: p.file, Resource: fn.LogicalID, Property: "FunctionName", Line: line(at),
				Err: fmt.Errorf("function name %q is also used by resource %s", fn.FunctionName, other)}
		}
		seen[fn.FunctionName] = fn.LogicalID
	}
	return nil
}

func isFunctionType(t string) bool { return t == TypeServerlessFunction || t == TypeLambdaFunction }

func (p *parser) readResources(res *yaml.Node) error {
	for i := 0; i+1 < len(res.Content); i += 2 {
		id := res.Content[i].Value
		n := deref(res.Content[i+1])
		if _, dup := p.resources[id]; dup {
			return &Error{File: p.file, Resource: id, Line: line(res.Content[i]), Err: errors.New("is defined twice")}
		}
		if n == nil || n.Kind != yaml.MappingNode {
			return &Error{File: p.file, Resource: id, Line: line(n), Err: fmt.Errorf("must be a mapping with Type and Properties, got %s", describe(n))}
		}
		r := &resource{id: id, node: n}
		if t := mapGet(n, "Type"); t == nil || t.Kind != yaml.ScalarNode || t.Value == "" {
			return &Error{File: p.file, Resource: id, Property: "Type", Line: line(n), Err: errors.New("is required and must be a string")}
		} else {
			r.typ = t.Value
		}
		if c := mapGet(n, "Condition"); c != nil {
			if c.Kind != yaml.ScalarNode {
				return &Error{File: p.file, Resource: id, Property: "Condition", Line: line(c), Err: fmt.Errorf("must be a condition name, got %s", describe(c))}
			}
			r.condition = c.Value
		}
		props := mapGet(n, "Properties")
		if props != nil && props.Kind != yaml.MappingNode && !isNull(props) {
			return &Error{File: p.file, Resource: id, Property: "Properties", Line: line(props), Err: fmt.Errorf("must be a mapping, got %s", describe(props))}
		}
		if isNull(props) {
			props = nil
		}
		if r.typ == TypeServerlessFunction && p.globals != nil {
			props = mergeGlobals(p.globals, props, "")
		}
		if props == nil {
			props = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		}
		r.props = props
		p.resources[id] = r
		p.order = append(p.order, id)
	}
	return nil
}

// created reports whether a resource exists given its Condition.
func (p *parser) created(r *resource) (bool, error) {
	if r.created != nil {
		return *r.created, nil
	}
	ok := true
	if r.condition != "" {
		v, err := p.condition(r.condition)
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				return false, err
			}
			return false, &Error{File: p.file, Resource: r.id, Property: "Condition", Err: err}
		}
		ok = v
	}
	r.created = &ok
	return ok, nil
}

var functionNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// functionName resolves (and memoizes) a function resource's name.
func (p *parser) functionName(r *resource) (string, error) {
	if r.nameDone {
		return r.name, r.nameErr
	}
	if r.nameBusy {
		return "", fmt.Errorf("the FunctionName of resource %s depends on itself (a reference cycle)", r.id)
	}
	r.nameBusy = true
	defer func() { r.nameBusy = false }()
	name, explicit, err := p.computeName(r)
	r.name, r.nameErr, r.nameDone, r.explicitName = name, err, true, explicit
	return name, err
}

func (p *parser) computeName(r *resource) (string, bool, error) {
	raw := mapGet(r.props, "FunctionName")
	if raw == nil {
		if !functionNameRE.MatchString(r.id) {
			return "", false, &Error{File: p.file, Resource: r.id, Line: line(r.node),
				Err: errors.New("the logical ID is not a valid function name (1-64 letters, digits, '-' or '_'); set FunctionName")}
		}
		return r.id, false, nil
	}
	w := where{resource: r.id, prop: "FunctionName"}
	v, err := p.eval(w, raw)
	if err != nil {
		return "", true, err
	}
	if v == nil {
		return r.id, false, nil
	}
	s, err := p.str(w, v)
	if err != nil {
		return "", true, err
	}
	if !functionNameRE.MatchString(s) {
		return "", true, p.errAt(w, v, "%q is not a valid function name (1-64 letters, digits, '-' or '_')", s)
	}
	return s, true, nil
}

func (p *parser) functionArn(name string) string {
	return fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", p.opts.Partition, p.opts.Region, p.opts.AccountID, name)
}

func (p *parser) capacityProviderArn(name string) string {
	return fmt.Sprintf("arn:%s:lambda:%s:%s:capacity-provider:%s", p.opts.Partition, p.opts.Region, p.opts.AccountID, name)
}

func (p *parser) roleArn(name string) string {
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", p.opts.Partition, p.opts.AccountID, name)
}
