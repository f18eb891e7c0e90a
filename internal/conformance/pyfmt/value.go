// Package pyfmt reproduces the few pieces of Python semantics the upstream
// conformance runner (a Python program) applies to requirement data, so that
// a Go port reaches the same verdicts byte for byte:
//
//   - [JSONDumps] is json.dumps with its defaults: ", " and ": " separators,
//     ensure_ascii (lower-case \uXXXX escapes, surrogate pairs above U+FFFF),
//     keys in insertion order, floats as Python's repr, NaN and Infinity
//     allowed, "/" not escaped;
//   - [JSONLoads] is json.loads: integers stay integers (of any size),
//     numbers with a fraction or exponent become floats, NaN and Infinity
//     are accepted, duplicate keys keep the last value;
//   - [Str] and [Repr] are str() and repr(): True/False/None, shortest
//     round-trip float repr (1.0, 1e-05, 1e+16), dict and list repr with
//     single-quoted strings;
//   - [Equal] is ==: 1 == 1.0, True == 1, "1" != 1, dicts compare
//     regardless of key order, lists element by element.
//
// # Value model
//
// Python values are represented by these Go types, and every function of
// the conformance harness that handles requirement data uses only them:
//
//	None   nil
//	bool   bool
//	int    int64, or *big.Int when the value does not fit in an int64
//	float  float64
//	str    string
//	list   []any
//	dict   *Map (string keys, insertion order)
//
// [Normalize] converts a few convenient Go types (int, int32, float32,
// map[string]any, []string, …) into the model.
package pyfmt

import (
	"fmt"
	"math/big"
	"sort"
)

// Map is a Python dict with string keys that remembers insertion order.
// Setting an existing key keeps its position, as in Python. A nil *Map
// reads as an empty dict. The zero value is ready to use.
type Map struct {
	keys []string
	vals map[string]any
}

// NewMap returns an empty Map.
func NewMap() *Map { return &Map{} }

// MapOf builds a Map from alternating keys and values, e.g.
// MapOf("a", int64(1), "b", "x"). It panics on an odd count or a non-string
// key; it is meant for tests and literals.
func MapOf(kv ...any) *Map {
	if len(kv)%2 != 0 {
		panic("pyfmt.MapOf: odd number of arguments")
	}
	m := NewMap()
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			panic(fmt.Sprintf("pyfmt.MapOf: key %v is not a string", kv[i]))
		}
		m.Set(k, kv[i+1])
	}
	return m
}

// Set assigns v to k; a new key goes last, an existing key keeps its place.
func (m *Map) Set(k string, v any) {
	if m.vals == nil {
		m.vals = map[string]any{}
	}
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
}

// Get returns the value of k and whether k is present.
func (m *Map) Get(k string) (any, bool) {
	if m == nil {
		return nil, false
	}
	v, ok := m.vals[k]
	return v, ok
}

// Value returns the value of k, or nil when k is absent (Python's d.get(k)).
func (m *Map) Value(k string) any {
	v, _ := m.Get(k)
	return v
}

// Has reports whether k is present.
func (m *Map) Has(k string) bool {
	_, ok := m.Get(k)
	return ok
}

// Delete removes k if present.
func (m *Map) Delete(k string) {
	if m == nil {
		return
	}
	if _, ok := m.vals[k]; !ok {
		return
	}
	delete(m.vals, k)
	for i, key := range m.keys {
		if key == k {
			m.keys = append(m.keys[:i:i], m.keys[i+1:]...)
			break
		}
	}
}

// Keys returns the keys in insertion order. The slice must not be modified.
func (m *Map) Keys() []string {
	if m == nil {
		return nil
	}
	return m.keys
}

// Len is the number of keys.
func (m *Map) Len() int {
	if m == nil {
		return 0
	}
	return len(m.keys)
}

// Clone returns a deep copy of the map (nested maps and lists are copied).
func (m *Map) Clone() *Map {
	if m == nil {
		return nil
	}
	c, _ := DeepCopy(m).(*Map)
	return c
}

// DeepCopy copies maps and lists recursively; scalars are shared (they are
// immutable, except *big.Int, which the package never mutates).
func DeepCopy(v any) any {
	switch t := v.(type) {
	case *Map:
		if t == nil {
			return t
		}
		c := &Map{keys: append([]string(nil), t.keys...), vals: make(map[string]any, len(t.vals))}
		for k, x := range t.vals {
			c.vals[k] = DeepCopy(x)
		}
		return c
	case []any:
		if t == nil {
			return t
		}
		c := make([]any, len(t))
		for i, x := range t {
			c[i] = DeepCopy(x)
		}
		return c
	default:
		return v
	}
}

// MarshalJSON encodes the map as JSON in insertion order (json.dumps
// formatting), so that model values can be embedded in encoding/json
// output.
func (m *Map) MarshalJSON() ([]byte, error) {
	s, err := JSONDumps(m)
	if err != nil {
		return nil, err
	}
	return []byte(s), nil
}

// String is Python's str() of the dict.
func (m *Map) String() string { return Repr(m) }

// Normalize converts v into the value model. Besides the model types it
// accepts int, int8…int64, uint8…uint64, float32, map[string]any (keys
// sorted, since Go maps have no order), []string and []map[string]any.
func Normalize(v any) (any, error) {
	switch t := v.(type) {
	case nil, bool, int64, float64, string:
		return t, nil
	case *big.Int:
		if t == nil {
			return nil, nil
		}
		if t.IsInt64() {
			return t.Int64(), nil
		}
		return t, nil
	case int:
		return int64(t), nil
	case int8:
		return int64(t), nil
	case int16:
		return int64(t), nil
	case int32:
		return int64(t), nil
	case uint8:
		return int64(t), nil
	case uint16:
		return int64(t), nil
	case uint32:
		return int64(t), nil
	case uint:
		return normUint(uint64(t)), nil
	case uint64:
		return normUint(t), nil
	case float32:
		return float64(t), nil
	case []string:
		out := make([]any, len(t))
		for i, s := range t {
			out[i] = s
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			n, err := Normalize(x)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = n
		}
		return out, nil
	case []map[string]any:
		out := make([]any, len(t))
		for i, x := range t {
			n, err := Normalize(x)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = n
		}
		return out, nil
	case *Map:
		if t == nil {
			return nil, nil
		}
		out := NewMap()
		for _, k := range t.keys {
			n, err := Normalize(t.vals[k])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out.Set(k, n)
		}
		return out, nil
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := NewMap()
		for _, k := range keys {
			n, err := Normalize(t[k])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out.Set(k, n)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("pyfmt: unsupported value of type %T", v)
	}
}

func normUint(u uint64) any {
	if u <= 1<<63-1 {
		return int64(u)
	}
	return new(big.Int).SetUint64(u)
}

// TypeName is Python's type(v).__name__ for a model value ("int", "str",
// "dict", …), used in messages.
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []any:
		return "list"
	case *Map:
		return "dict"
	default:
		return fmt.Sprintf("%T", v)
	}
}
