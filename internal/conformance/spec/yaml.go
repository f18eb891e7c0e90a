package spec

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/duro-run/duro/internal/conformance/pyfmt"
)

// DecodeYAML parses one YAML document into the pyfmt value model with
// PyYAML's safe_load rules (YAML 1.1), which is what the upstream runner
// uses: plain scalars resolve as YAML 1.1 bools (yes/no/on/off/true/false
// in three casings), ints (decimal, 0b, 0x, leading-0 octal, sexagesimal,
// underscores), floats (a "." is required: 1e5 stays a string), nulls
// (~, null, empty) and timestamps (kept as their text: the value model has
// no date type); quoted and block scalars are strings; mappings keep their
// order, the last of duplicate keys wins, and "<<" merge keys are applied.
// Mapping keys must resolve to strings.
func DecodeYAML(data []byte) (any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind == 0 {
		return nil, nil // empty document
	}
	return decodeNode(&doc, 0)
}

const maxYAMLDepth = 200

func decodeNode(n *yaml.Node, depth int) (any, error) {
	if depth > maxYAMLDepth {
		return nil, fmt.Errorf("line %d: YAML nested too deeply (or a recursive alias)", n.Line)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return decodeNode(n.Content[0], depth+1)
	case yaml.AliasNode:
		return decodeNode(n.Alias, depth+1)
	case yaml.ScalarNode:
		return decodeScalar(n)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := decodeNode(c, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		return decodeMapping(n, depth)
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node kind %d", n.Line, n.Kind)
}

func decodeMapping(n *yaml.Node, depth int) (any, error) {
	m := pyfmt.NewMap()
	// PyYAML's flatten_mapping: merged entries come first, then the
	// mapping's own entries override them.
	var own [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			if err := mergeInto(m, v, depth); err != nil {
				return nil, err
			}
			continue
		}
		own = append(own, [2]*yaml.Node{k, v})
	}
	for _, kv := range own {
		kv0, err := decodeNode(kv[0], depth+1)
		if err != nil {
			return nil, err
		}
		key, ok := kv0.(string)
		if !ok {
			return nil, fmt.Errorf("line %d: mapping key %s is a %s; only string keys are supported",
				kv[0].Line, pyfmt.Repr(kv0), pyfmt.TypeName(kv0))
		}
		val, err := decodeNode(kv[1], depth+1)
		if err != nil {
			return nil, err
		}
		m.Set(key, val)
	}
	return m, nil
}

func mergeInto(m *pyfmt.Map, v *yaml.Node, depth int) error {
	var sources []*yaml.Node
	switch {
	case v.Kind == yaml.SequenceNode:
		sources = v.Content
	default:
		sources = []*yaml.Node{v}
	}
	for _, s := range sources {
		sv, err := decodeNode(s, depth+1)
		if err != nil {
			return err
		}
		sm, ok := sv.(*pyfmt.Map)
		if !ok {
			return fmt.Errorf("line %d: merge key expects a mapping or a list of mappings", s.Line)
		}
		for _, k := range sm.Keys() {
			if !m.Has(k) { // earlier sources win
				m.Set(k, sm.Value(k))
			}
		}
	}
	return nil
}

// PyYAML 1.1 implicit resolvers (yaml/resolver.py).
var (
	reBool  = regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	reFloat = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
	reInt   = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	reNull  = regexp.MustCompile(`^(?:~|null|Null|NULL|)$`)
	reTime  = regexp.MustCompile(`^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$`)
)

func decodeScalar(n *yaml.Node) (any, error) {
	tag := ""
	switch {
	case n.Style&yaml.TaggedStyle != 0:
		tag = n.Tag
	case n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return n.Value, nil
	default:
		tag = resolvePlain(n.Value)
	}
	v, err := construct(tag, n.Value)
	if err != nil {
		return nil, fmt.Errorf("line %d: %w", n.Line, err)
	}
	return v, nil
}

// resolvePlain picks the tag PyYAML gives a plain scalar.
func resolvePlain(s string) string {
	switch {
	case reBool.MatchString(s):
		return "!!bool"
	case reFloat.MatchString(s):
		return "!!float"
	case reInt.MatchString(s):
		return "!!int"
	case reNull.MatchString(s):
		return "!!null"
	case reTime.MatchString(s):
		return "!!timestamp"
	}
	return "!!str"
}

func construct(tag, s string) (any, error) {
	switch tag {
	case "!!str", "!!timestamp", "!!binary":
		return s, nil
	case "!!null":
		return nil, nil
	case "!!bool":
		switch strings.ToLower(s) {
		case "yes", "true", "on":
			return true, nil
		case "no", "false", "off":
			return false, nil
		}
		return nil, fmt.Errorf("invalid bool %q", s)
	case "!!int":
		return constructInt(s)
	case "!!float":
		return constructFloat(s)
	}
	return nil, fmt.Errorf("unsupported YAML tag %s", tag)
}

// constructInt is PyYAML's construct_yaml_int.
func constructInt(s string) (any, error) {
	v := strings.ReplaceAll(s, "_", "")
	sign := ""
	if v != "" && (v[0] == '-' || v[0] == '+') {
		if v[0] == '-' {
			sign = "-"
		}
		v = v[1:]
	}
	var bi *big.Int
	var ok bool
	switch {
	case v == "0":
		return int64(0), nil
	case strings.HasPrefix(v, "0b"):
		bi, ok = new(big.Int).SetString(sign+v[2:], 2)
	case strings.HasPrefix(v, "0x"):
		bi, ok = new(big.Int).SetString(sign+v[2:], 16)
	case strings.HasPrefix(v, "0"):
		bi, ok = new(big.Int).SetString(sign+v[1:], 8)
	case strings.Contains(v, ":"):
		bi, ok = new(big.Int), true
		for _, part := range strings.Split(v, ":") {
			d, err := strconv.ParseInt(part, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("invalid int %q", s)
			}
			bi.Mul(bi, big.NewInt(60)).Add(bi, big.NewInt(d))
		}
		if sign == "-" {
			bi.Neg(bi)
		}
	default:
		bi, ok = new(big.Int).SetString(sign+v, 10)
	}
	if !ok {
		return nil, fmt.Errorf("invalid int %q", s)
	}
	if bi.IsInt64() {
		return bi.Int64(), nil
	}
	return bi, nil
}

// constructFloat is PyYAML's construct_yaml_float.
func constructFloat(s string) (any, error) {
	v := strings.ToLower(strings.ReplaceAll(s, "_", ""))
	sign := 1.0
	if v != "" && (v[0] == '-' || v[0] == '+') {
		if v[0] == '-' {
			sign = -1
		}
		v = v[1:]
	}
	switch {
	case v == ".inf":
		return sign * math.Inf(1), nil
	case v == ".nan":
		return math.NaN(), nil
	case strings.Contains(v, ":"):
		total := 0.0
		for _, part := range strings.Split(v, ":") {
			f, err := strconv.ParseFloat(part, 64)
			if err != nil {
				return nil, fmt.Errorf("invalid float %q", s)
			}
			total = total*60 + f
		}
		return sign * total, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, fmt.Errorf("invalid float %q", s)
	}
	return sign * f, nil
}
