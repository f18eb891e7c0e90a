package placeholder

import (
	"regexp"
	"testing"

	"github.com/duro-run/duro/internal/conformance/pyfmt"
)

func TestResolveVariables(t *testing.T) {
	c := NewSeeded(1)
	c.ResolveVariables(pyfmt.MapOf(
		"A", "${GEN_STR:8}",
		"B", "${GEN_STR:12}",
		"FLAG", true,
		"N", int64(3),
		"F", 1.0,
		"NONE", nil,
		"LIT", "plain ${A}",
		"L", []any{int64(1), "x"},
	))
	a, _ := c.Get("A")
	b, _ := c.Get("B")
	if !regexp.MustCompile(`^[a-z0-9]{8}$`).MatchString(a.(string)) || !regexp.MustCompile(`^[a-z0-9]{12}$`).MatchString(b.(string)) {
		t.Errorf("GEN_STR values %q, %q", a, b)
	}
	want := map[string]string{"FLAG": "True", "N": "3", "F": "1.0", "NONE": "None", "LIT": "plain ${A}", "L": "[1, 'x']"}
	for k, w := range want {
		if got, _ := c.Get(k); got != w {
			t.Errorf("%s bound to %s, want %q", k, pyfmt.Repr(got), w)
		}
	}
	if got := c.Bindings().Keys(); len(got) != 8 || got[0] != "A" || got[7] != "L" {
		t.Errorf("binding order %v", got)
	}
	// Two contexts with different seeds generate different strings.
	d := NewSeeded(2)
	d.ResolveVariables(pyfmt.MapOf("A", "${GEN_STR:8}"))
	if da, _ := d.Get("A"); da == a {
		t.Errorf("same GEN_STR %q from different seeds", a)
	}
}

func TestSubstitute(t *testing.T) {
	c := NewSeeded(1)
	c.Bind("NAME", "abc")
	c.Bind("ID1", "op-1")
	c.Bind("NUM", int64(7))
	c.Bind("FLAG", true)
	tests := []struct {
		in   any
		want any
	}{
		{"${NAME}", "abc"},
		{"${NUM}", int64(7)},
		{"x${NUM}", "x7"},
		{"${FLAG}!", "True!"},
		{`"${NAME}"`, `"abc"`},
		{"Hello, ${NAME}!", "Hello, abc!"},
		{"${NAME}-${ID1}", "abc-op-1"},
		{"${UNBOUND}", "${UNBOUND}"},
		{"a ${UNBOUND} ${NAME}", "a ${UNBOUND} abc"},
		{"${/^[0-5]$/}", "${/^[0-5]$/}"},
		{"/Greeting for: ${NAME}/", "/Greeting for: abc/"},
		{"${GEN_STR:8}", "${GEN_STR:8}"},
		{"*", "*"},
		{int64(3), int64(3)},
		{nil, nil},
		{[]any{"${NAME}", int64(1)}, []any{"abc", int64(1)}},
		{pyfmt.MapOf("${NAME}", "${NAME}", "n", pyfmt.MapOf("v", "${NUM}")), pyfmt.MapOf("${NAME}", "abc", "n", pyfmt.MapOf("v", int64(7)))},
	}
	for _, tc := range tests {
		got := c.Substitute(tc.in)
		if !pyfmt.Equal(got, tc.want) || pyfmt.TypeName(got) != pyfmt.TypeName(tc.want) {
			t.Errorf("Substitute(%s) = %s, want %s", pyfmt.Repr(tc.in), pyfmt.Repr(got), pyfmt.Repr(tc.want))
		}
	}
	in := pyfmt.MapOf("k", "${NAME}")
	c.Substitute(in)
	if in.Value("k") != "${NAME}" {
		t.Error("Substitute modified its input")
	}
}

func TestNameAndRegex(t *testing.T) {
	tests := []struct {
		in          any
		name, regex string
		isName      bool
		isRegex     bool
	}{
		{"${ID1}", "ID1", "", true, false},
		{"${CTX_OUTER}", "CTX_OUTER", "", true, false},
		{"${GEN_STR:8}", "GEN_STR:8", "", true, false},
		{"${A}-${B}", "A}-${B", "", true, false}, // upstream's greedy pattern
		{"${ID1}\n", "ID1", "", true, false},
		{"${/^[0-5]$/}", "", "^[0-5]$", false, true},
		{"${/wrapped/}", "", "wrapped", false, true},
		{"x${ID1}", "", "", false, false},
		{"${}", "", "", false, false},
		{int64(1), "", "", false, false},
		{"*", "", "", false, false},
	}
	for _, tc := range tests {
		n, ok := Name(tc.in)
		if ok != tc.isName || n != tc.name {
			t.Errorf("Name(%s) = %q, %v; want %q, %v", pyfmt.Repr(tc.in), n, ok, tc.name, tc.isName)
		}
		r, ok := Regex(tc.in)
		if ok != tc.isRegex || r != tc.regex {
			t.Errorf("Regex(%s) = %q, %v; want %q, %v", pyfmt.Repr(tc.in), r, ok, tc.regex, tc.isRegex)
		}
	}
}
