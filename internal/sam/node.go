package sam

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// deref follows documents and aliases to the node that holds a value.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && i < 100; i++ {
		switch n.Kind {
		case yaml.DocumentNode:
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		case yaml.AliasNode:
			n = n.Alias
		default:
			return n
		}
	}
	return n
}

// mapGet returns the value of key in mapping m (nil if absent or m is not
// a mapping).
func mapGet(m *yaml.Node, key string) *yaml.Node {
	m = deref(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return deref(m.Content[i+1])
		}
	}
	return nil
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

func isIntrinsic(n *yaml.Node) bool {
	_, _, _, ok := intrinsicOf(deref(n))
	return ok
}

func strNode(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

// describe renders a value for an error message: strings quoted, other
// scalars as written, collections by kind.
func describe(n *yaml.Node) string {
	n = deref(n)
	switch {
	case n == nil:
		return "nothing"
	case isIntrinsic(n):
		name, _, _, _ := intrinsicOf(n)
		return "an unevaluated " + name
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case isNull(n):
		return "null"
	case n.ShortTag() == "!!str":
		return strconv.Quote(n.Value)
	}
	return n.Value
}

// toAny converts a node to plain Go values (map[string]any, []any, string,
// int, float64, bool, nil). Tags of intrinsic functions are dropped.
func toAny(n *yaml.Node) any {
	n = deref(n)
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = toAny(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			l = append(l, toAny(c))
		}
		return l
	}
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			return b
		}
	case "!!int":
		var i int
		if n.Decode(&i) == nil {
			return i
		}
	case "!!float":
		var f float64
		if n.Decode(&f) == nil {
			return f
		}
	}
	return n.Value
}

// rawMapping converts a mapping node to map[string]any.
func rawMapping(n *yaml.Node) (map[string]any, error) {
	n = deref(n)
	if isNull(n) {
		return map[string]any{}, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("must be a mapping, got %s", describe(n))
	}
	return toAny(n).(map[string]any), nil
}

// str reads an evaluated scalar as a string.
func (p *parser) str(w where, n *yaml.Node) (string, error) {
	if n == nil || n.Kind != yaml.ScalarNode || isNull(n) {
		return "", p.errAt(w, n, "must be a string, got %s", describe(n))
	}
	return n.Value, nil
}

// int32In reads an evaluated scalar as an integer within [min, max].
// CloudFormation accepts integers written as strings ("60"), which is also
// what Ref of a Number parameter yields.
func (p *parser) int32In(w where, n *yaml.Node, min, max int64) (int32, error) {
	if n == nil || n.Kind != yaml.ScalarNode || isNull(n) {
		return 0, p.errAt(w, n, "must be an integer, got %s", describe(n))
	}
	v, err := strconv.ParseInt(strings.TrimSpace(n.Value), 10, 64)
	if err != nil {
		return 0, p.errAt(w, n, "must be an integer, got %s", describe(n))
	}
	if v < min || v > max {
		return 0, p.errAt(w, n, "must be between %d and %d, got %d", min, max, v)
	}
	return int32(v), nil
}

// mergeGlobals applies Globals.Function to a resource's Properties with
// SAM's rules: the resource wins for scalars, mappings merge key by key,
// lists concatenate (globals first) except Architectures, which the
// resource replaces, and an intrinsic function counts as a scalar. It
// builds new mapping and list nodes and never modifies its inputs.
func mergeGlobals(global, local *yaml.Node, path string) *yaml.Node {
	global, local = deref(global), deref(local)
	if isNull(global) {
		return local
	}
	if isNull(local) {
		return global
	}
	if isIntrinsic(global) || isIntrinsic(local) {
		return local
	}
	switch {
	case global.Kind == yaml.MappingNode && local.Kind == yaml.MappingNode:
		out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: local.Line, Column: local.Column}
		seen := map[string]bool{}
		for i := 0; i+1 < len(global.Content); i += 2 {
			k := global.Content[i]
			seen[k.Value] = true
			sub := k.Value
			if path != "" {
				sub = path + "." + k.Value
			}
			v := global.Content[i+1]
			if lv := mapGet(local, k.Value); lv != nil {
				v = mergeGlobals(v, lv, sub)
			}
			out.Content = append(out.Content, k, v)
		}
		for i := 0; i+1 < len(local.Content); i += 2 {
			if !seen[local.Content[i].Value] {
				out.Content = append(out.Content, local.Content[i], local.Content[i+1])
			}
		}
		return out
	case global.Kind == yaml.SequenceNode && local.Kind == yaml.SequenceNode && path != "Architectures":
		out := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: local.Line, Column: local.Column}
		out.Content = append(append(out.Content, global.Content...), local.Content...)
		return out
	}
	return local
}
