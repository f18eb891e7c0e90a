// Package template reads which function of a SAM template implements which
// conformance requirement: the upstream convention is a resource-level
// TestingMetadata block,
//
//	Resources:
//	  StepBasic:
//	    Type: AWS::Serverless::Function
//	    Properties: {FunctionName: step-basic, …}
//	    TestingMetadata:
//	      TestDescription: ["1-1", "1-2"]   # one function may serve several ids
//
// plus TestingMetadata.NotImplemented: [{id, reason}] at the top level or
// under any resource, which turns a requirement into NOT_IMPLEMENTED.
//
// [YAMLLoader] parses just these keys with yaml.v3, tolerating
// CloudFormation tags (!Sub, !Ref, …). The harness depends only on the
// [Loader] interface, so it can switch to the project's SAM package
// (internal/sam) by building a [Binding] with [NewBinding] from its
// function list.
package template

import (
	"fmt"
	"os"
	"sort"

	"gopkg.in/yaml.v3"
)

// Function is one function resource that serves requirements.
type Function struct {
	// LogicalID is the resource key under Resources.
	LogicalID string
	// FunctionName is Properties.FunctionName when it is a plain string,
	// else the logical ID (as `sam local` and `duro dev` name functions).
	FunctionName string
	// TestIDs are the requirement IDs of TestingMetadata.TestDescription.
	TestIDs []string
}

// Binding maps requirement IDs to functions.
type Binding struct {
	// Functions are the function resources, in template order.
	Functions []Function
	// NotImplemented maps a requirement ID to the declared reason.
	NotImplemented map[string]string
	// Warnings note what was ignored or approximated.
	Warnings []string
	byID     map[string]int
}

// NewBinding indexes functions by requirement ID. An ID listed by several
// functions is bound to the first one, with a warning.
func NewBinding(functions []Function, notImplemented map[string]string) *Binding {
	b := &Binding{Functions: functions, NotImplemented: notImplemented, byID: map[string]int{}}
	if b.NotImplemented == nil {
		b.NotImplemented = map[string]string{}
	}
	for i, f := range functions {
		for _, id := range f.TestIDs {
			if prev, dup := b.byID[id]; dup {
				b.Warnings = append(b.Warnings, fmt.Sprintf("requirement %s is listed by %s and %s; using %s",
					id, functions[prev].LogicalID, f.LogicalID, functions[prev].LogicalID))
				continue
			}
			b.byID[id] = i
		}
	}
	return b
}

// Function returns the function serving a requirement.
func (b *Binding) Function(id string) (Function, bool) {
	i, ok := b.byID[id]
	if !ok {
		return Function{}, false
	}
	return b.Functions[i], true
}

// IDs returns every requirement ID the template binds, sorted.
func (b *Binding) IDs() []string {
	out := make([]string, 0, len(b.byID))
	for id := range b.byID {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Loader reads a template's binding.
type Loader interface {
	LoadBinding(path string) (*Binding, error)
}

// YAMLLoader is the built-in Loader.
type YAMLLoader struct{}

// LoadBinding implements Loader.
func (YAMLLoader) LoadBinding(path string) (*Binding, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	b, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", path, err)
	}
	return b, nil
}

// Function resource types.
const (
	typeServerless = "AWS::Serverless::Function"
	typeLambda     = "AWS::Lambda::Function"
)

// Parse reads a template's binding from its contents.
func Parse(data []byte) (*Binding, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse YAML: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("the template is not a mapping")
	}
	root := doc.Content[0]
	notImpl := map[string]string{}
	var warnings []string
	if err := readNotImplemented(get(root, "TestingMetadata"), notImpl); err != nil {
		return nil, fmt.Errorf("TestingMetadata: %w", err)
	}
	var functions []Function
	res := get(root, "Resources")
	if res != nil && res.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("Resources is not a mapping")
	}
	for i := 0; res != nil && i+1 < len(res.Content); i += 2 {
		logical, r := res.Content[i].Value, res.Content[i+1]
		if r.Kind != yaml.MappingNode {
			continue
		}
		meta := get(r, "TestingMetadata")
		if err := readNotImplemented(meta, notImpl); err != nil {
			return nil, fmt.Errorf("resource %s: TestingMetadata: %w", logical, err)
		}
		typ := scalar(get(r, "Type"))
		if typ != typeServerless && typ != typeLambda {
			continue
		}
		f := Function{LogicalID: logical, FunctionName: logical}
		if fn := get(get(r, "Properties"), "FunctionName"); fn != nil {
			if fn.Kind == yaml.ScalarNode && fn.Style&yaml.TaggedStyle == 0 && fn.Value != "" {
				f.FunctionName = fn.Value
			} else {
				warnings = append(warnings, fmt.Sprintf("resource %s: FunctionName is not a plain string (an intrinsic function?); using the logical ID", logical))
			}
		}
		ids, err := testIDs(get(meta, "TestDescription"))
		if err != nil {
			return nil, fmt.Errorf("resource %s: TestingMetadata.TestDescription: %w", logical, err)
		}
		f.TestIDs = ids
		functions = append(functions, f)
	}
	b := NewBinding(functions, notImpl)
	b.Warnings = append(warnings, b.Warnings...)
	return b, nil
}

// get returns the value of key in a mapping node (nil when absent).
func get(n *yaml.Node, key string) *yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			v := n.Content[i+1]
			if v.Kind == yaml.AliasNode {
				v = v.Alias
			}
			return v
		}
	}
	return nil
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

func testIDs(n *yaml.Node) ([]string, error) {
	if n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return nil, nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return []string{n.Value}, nil
	case yaml.SequenceNode:
		out := make([]string, 0, len(n.Content))
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: entries must be requirement IDs", c.Line)
			}
			out = append(out, c.Value)
		}
		return out, nil
	}
	return nil, fmt.Errorf("line %d: must be a list of requirement IDs", n.Line)
}

// readNotImplemented adds a TestingMetadata block's NotImplemented entries;
// the first reason given for an ID wins.
func readNotImplemented(meta *yaml.Node, into map[string]string) error {
	list := get(meta, "NotImplemented")
	if list == nil || (list.Kind == yaml.ScalarNode && list.Tag == "!!null") {
		return nil
	}
	if list.Kind != yaml.SequenceNode {
		return fmt.Errorf("line %d: NotImplemented must be a list of {id, reason}", list.Line)
	}
	for _, e := range list.Content {
		if e.Kind != yaml.MappingNode {
			continue
		}
		id := scalar(get(e, "id"))
		if id == "" {
			continue
		}
		if _, seen := into[id]; !seen {
			into[id] = scalar(get(e, "reason"))
		}
	}
	return nil
}

// AddNotImplemented adds the NotImplemented entries of a TestingMetadata
// block given as decoded YAML (map[string]any with a list of
// {id, reason} maps, as internal/sam exposes it) to into; the first reason
// given for an ID wins. It lets a Loader built on another template parser
// produce the same binding as YAMLLoader.
func AddNotImplemented(meta map[string]any, into map[string]string) {
	var entries []any
	switch l := meta["NotImplemented"].(type) {
	case []any:
		entries = l
	case []map[string]any:
		for _, e := range l {
			entries = append(entries, e)
		}
	}
	for _, e := range entries {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		id, _ := m["id"].(string)
		if id == "" {
			continue
		}
		if _, seen := into[id]; !seen {
			reason, _ := m["reason"].(string)
			into[id] = reason
		}
	}
}
