package pyfmt

import (
	"math"
	"math/big"
	"testing"
)

func TestFloatRepr(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{1, "1.0"},
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{-2.5, "-2.5"},
		{0.1, "0.1"},
		{0.0001, "0.0001"},
		{0.00001, "1e-05"},
		{1.5e-7, "1.5e-07"},
		{1e15, "1000000000000000.0"},
		{1e16, "1e+16"},
		{1.2345e16, "1.2345e+16"},
		{123456789.125, "123456789.125"},
		{1e300 * 15, "1.5e+301"},
		{5e-324, "5e-324"},
		{math.MaxFloat64, "1.7976931348623157e+308"},
		{1.0 / 3, "0.3333333333333333"},
		{100, "100.0"},
		{math.Inf(1), "inf"},
		{math.Inf(-1), "-inf"},
		{math.NaN(), "nan"},
	}
	for _, tc := range tests {
		if got := FloatRepr(tc.in); got != tc.want {
			t.Errorf("FloatRepr(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestStrAndRepr(t *testing.T) {
	big1, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	tests := []struct {
		name     string
		in       any
		str, rep string
	}{
		{"true", true, "True", "True"},
		{"false", false, "False", "False"},
		{"none", nil, "None", "None"},
		{"int", int64(3), "3", "3"},
		{"negative int", int64(-42), "-42", "-42"},
		{"big int", big1, "123456789012345678901234567890", "123456789012345678901234567890"},
		{"float", 3.0, "3.0", "3.0"},
		{"small float", 1e-5, "1e-05", "1e-05"},
		{"large float", 1e16, "1e+16", "1e+16"},
		{"string", "abc", "abc", "'abc'"},
		{"string with quote", "it's", "it's", `"it's"`},
		{"string with both quotes", `it's "x"`, `it's "x"`, `'it\'s "x"'`},
		{"string escapes", "a\\b\n\t\r\x01\x7f", "a\\b\n\t\r\x01\x7f", `'a\\b\n\t\r\x01\x7f'`},
		{"unicode printable", "héllo ✓", "héllo ✓", "'héllo ✓'"},
		{"unicode non-printable", "\u00a0\u200b\U000e0001", "\u00a0\u200b\U000e0001", `'\xa0\u200b\U000e0001'`},
		{"empty list", []any{}, "[]", "[]"},
		{"list", []any{int64(1), "a", true, nil, 1.5}, "[1, 'a', True, None, 1.5]", "[1, 'a', True, None, 1.5]"},
		{"empty dict", NewMap(), "{}", "{}"},
		{"dict", MapOf("a", int64(1), "b", []any{"x"}, "c", MapOf("d", false)),
			"{'a': 1, 'b': ['x'], 'c': {'d': False}}", "{'a': 1, 'b': ['x'], 'c': {'d': False}}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Str(tc.in); got != tc.str {
				t.Errorf("Str = %q, want %q", got, tc.str)
			}
			if got := Repr(tc.in); got != tc.rep {
				t.Errorf("Repr = %q, want %q", got, tc.rep)
			}
		})
	}
}

func TestJSONDumps(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"null", nil, "null"},
		{"true", true, "true"},
		{"false", false, "false"},
		{"int", int64(42), "42"},
		{"go int", 7, "7"},
		{"float", 1.0, "1.0"},
		{"float exp", 1e-5, "1e-05"},
		{"float big", 1e16, "1e+16"},
		{"nan", math.NaN(), "NaN"},
		{"inf", math.Inf(1), "Infinity"},
		{"-inf", math.Inf(-1), "-Infinity"},
		{"string", "abc", `"abc"`},
		{"slash not escaped", "a/b", `"a/b"`},
		{"escapes", "q\"b\\n\nr\rt\tb\bf\f", `"q\"b\\n\nr\rt\tb\bf\f"`},
		{"control", "\x00\x1f\x7f", `"\u0000\u001f\u007f"`},
		{"non-ascii lower hex", "é✓", `"\u00e9\u2713"`},
		{"surrogate pair", "😀", `"\ud83d\ude00"`},
		{"list", []any{int64(1), "a", nil}, `[1, "a", null]`},
		{"empty list", []any{}, `[]`},
		{"dict insertion order", MapOf("status", "approved", "b", int64(1), "a", []any{true}),
			`{"status": "approved", "b": 1, "a": [true]}`},
		{"empty dict", NewMap(), `{}`},
		{"nested", MapOf("a", MapOf("b", MapOf())), `{"a": {"b": {}}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := JSONDumps(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("JSONDumps = %s, want %s", got, tc.want)
			}
		})
	}
	if _, err := JSONDumps(struct{}{}); err == nil {
		t.Error("JSONDumps(struct{}{}) succeeded, want an error")
	}
}

func TestJSONLoads(t *testing.T) {
	big1, _ := new(big.Int).SetString("12345678901234567890123", 10)
	tests := []struct {
		in   string
		want any
	}{
		{`null`, nil},
		{` true `, true},
		{`false`, false},
		{`3`, int64(3)},
		{`-0`, int64(0)},
		{`3.0`, 3.0},
		{`1e5`, 1e5},
		{`1E+2`, 100.0},
		{`12345678901234567890123`, big1},
		{`NaN`, math.NaN()},
		{`-Infinity`, math.Inf(-1)},
		{`"a\u00e9\ud83d\ude00\/"`, "aé😀/"},
		{`[1, "a", {"b": null}]`, []any{int64(1), "a", MapOf("b", nil)}},
		{`{"a": 1, "b": 2, "a": 3}`, MapOf("a", int64(3), "b", int64(2))},
		{"\n{}\n", NewMap()},
	}
	for _, tc := range tests {
		got, err := JSONLoads(tc.in)
		if err != nil {
			t.Errorf("JSONLoads(%q): %v", tc.in, err)
			continue
		}
		if f, ok := tc.want.(float64); ok && math.IsNaN(f) {
			if g, ok := got.(float64); !ok || !math.IsNaN(g) {
				t.Errorf("JSONLoads(%q) = %v, want NaN", tc.in, got)
			}
			continue
		}
		if !Equal(got, tc.want) || TypeName(got) != TypeName(tc.want) {
			t.Errorf("JSONLoads(%q) = %s (%s), want %s (%s)", tc.in, Repr(got), TypeName(got), Repr(tc.want), TypeName(tc.want))
		}
	}
	// Order of keys is preserved.
	v, _ := JSONLoads(`{"z": 1, "a": 2}`)
	if got, _ := JSONDumps(v); got != `{"z": 1, "a": 2}` {
		t.Errorf("round trip = %s", got)
	}
	for _, bad := range []string{``, `approved`, `{"a" 1}`, `[1,]`, `01`, `"abc`, "\"a\x01\"", `{} x`, `-`, `"\x"`, `tru`} {
		if v, err := JSONLoads(bad); err == nil {
			t.Errorf("JSONLoads(%q) = %s, want an error", bad, Repr(v))
		}
	}
}

func TestEqual(t *testing.T) {
	huge, _ := new(big.Int).SetString("9007199254740993", 10) // 2**53 + 1
	tests := []struct {
		name string
		a, b any
		want bool
	}{
		{"int float", int64(1), 1.0, true},
		{"true one", true, int64(1), true},
		{"false zero", false, int64(0), true},
		{"true one float", true, 1.0, true},
		{"true two", true, int64(2), false},
		{"str int", "1", int64(1), false},
		{"str str", "a", "a", true},
		{"none none", nil, nil, true},
		{"none zero", nil, int64(0), false},
		{"none empty str", nil, "", false},
		{"nan", math.NaN(), math.NaN(), false},
		{"int float frac", int64(1), 1.5, false},
		{"big exact", huge, 9007199254740992.0, false},
		{"big int", huge, huge, true},
		{"lists", []any{int64(1), "a"}, []any{1.0, "a"}, true},
		{"list lengths", []any{int64(1)}, []any{int64(1), int64(2)}, false},
		{"dict order", MapOf("a", int64(1), "b", int64(2)), MapOf("b", int64(2), "a", true), true},
		{"dict extra key", MapOf("a", int64(1)), MapOf("a", int64(1), "b", int64(2)), false},
		{"dict vs list", NewMap(), []any{}, false},
	}
	for _, tc := range tests {
		if got := Equal(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: Equal(%s, %s) = %v, want %v", tc.name, Repr(tc.a), Repr(tc.b), got, tc.want)
		}
		if got := Equal(tc.b, tc.a); got != tc.want {
			t.Errorf("%s: Equal(%s, %s) (swapped) = %v, want %v", tc.name, Repr(tc.b), Repr(tc.a), got, tc.want)
		}
	}
}

func TestMapSetKeepsPosition(t *testing.T) {
	m := MapOf("a", int64(1), "b", int64(2))
	m.Set("a", int64(3))
	m.Set("c", int64(4))
	if got := Repr(m); got != "{'a': 3, 'b': 2, 'c': 4}" {
		t.Errorf("Repr = %s", got)
	}
	m.Delete("b")
	if got := Repr(m); got != "{'a': 3, 'c': 4}" {
		t.Errorf("after Delete, Repr = %s", got)
	}
	var nilMap *Map
	if nilMap.Len() != 0 || nilMap.Has("x") {
		t.Error("nil map is not empty")
	}
}
