// Package placeholder is the per-requirement placeholder context of the
// conformance harness (conformance.md §1.3). One Context serves a whole
// requirement, in the upstream order:
//
//  1. Variables are bound ([Context.ResolveVariables]): NAME: ${GEN_STR:N}
//     binds a random [a-z0-9]{N} string, any other value binds Python
//     str() of itself (true binds "True");
//  2. Input is substituted ([Context.Substitute]) and sent;
//  3. history matching binds new names (${ID1} …) through [Context.Bind];
//  4. ExpectedResult, CallbackActions and ExpectedLogs are substituted.
//
// Substitution replaces ${NAME} references whose NAME is bound and matches
// [A-Za-z_][A-Za-z0-9_]*; unbound references stay as they are. A string
// that is exactly one bound ${NAME} becomes the bound value itself (which
// keeps its type when history matching bound a number); inside a longer
// string a bound value is inserted as its Python str().
package placeholder

import (
	crand "crypto/rand"
	"encoding/binary"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"

	"github.com/duro-run/duro/internal/conformance/pyfmt"
)

// Patterns of the upstream matcher (history.py): a whole-string
// placeholder is ${<anything>}, a whole-string regex is ${/<re>/}. Python's
// re.match with "$" also accepts one trailing newline.
var (
	wholePlaceholder = regexp.MustCompile(`^\$\{(.+)\}\n?$`)
	wholeRegex       = regexp.MustCompile(`^\$\{/(.+)/\}\n?$`)
	reference        = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
	genStr           = regexp.MustCompile(`^\$\{GEN_STR:(\d+)\}$`)
)

// Name returns the placeholder name of a whole-string ${NAME} value (any
// text between the braces, as upstream), and false for anything else,
// including a ${/regex/} value.
func Name(v any) (string, bool) {
	s, ok := v.(string)
	if !ok || wholeRegex.MatchString(s) {
		return "", false
	}
	m := wholePlaceholder.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// Regex returns the pattern of a whole-string ${/pattern/} value.
func Regex(v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		return "", false
	}
	m := wholeRegex.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// Context holds the bindings of one requirement. It is not safe for
// concurrent use.
type Context struct {
	bindings *pyfmt.Map
	rng      *rand.Rand
}

// New returns an empty context whose GEN_STR values come from rng; a nil
// rng is seeded from crypto/rand.
func New(rng *rand.Rand) *Context {
	if rng == nil {
		var seed [32]byte
		_, _ = crand.Read(seed[:])
		rng = rand.New(rand.NewChaCha8(seed))
	}
	return &Context{bindings: pyfmt.NewMap(), rng: rng}
}

// NewSeeded returns a context with a deterministic GEN_STR sequence.
func NewSeeded(seed uint64) *Context {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return New(rand.New(rand.NewChaCha8(s)))
}

// Has reports whether name is bound.
func (c *Context) Has(name string) bool { return c.bindings.Has(name) }

// Get returns the value bound to name.
func (c *Context) Get(name string) (any, bool) { return c.bindings.Get(name) }

// Bind binds (or rebinds) name to v.
func (c *Context) Bind(name string, v any) { c.bindings.Set(name, v) }

// Bindings returns a copy of the bindings in binding order.
func (c *Context) Bindings() *pyfmt.Map { return c.bindings.Clone() }

const genAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// GenStr returns a random [a-z0-9]{n} string.
func (c *Context) GenStr(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = genAlphabet[c.rng.IntN(len(genAlphabet))]
	}
	return string(b)
}

// ResolveVariables binds a requirement's Variables mapping, in order.
func (c *Context) ResolveVariables(vars *pyfmt.Map) {
	for _, name := range vars.Keys() {
		v := vars.Value(name)
		if s, ok := v.(string); ok {
			if m := genStr.FindStringSubmatch(s); m != nil {
				n, err := strconv.Atoi(m[1])
				if err == nil {
					c.Bind(name, c.GenStr(n))
					continue
				}
			}
		}
		c.Bind(name, pyfmt.Str(v))
	}
}

// Substitute returns v with bound references replaced, recursing into
// lists and mapping values (keys are left alone). v is not modified.
func (c *Context) Substitute(v any) any {
	switch t := v.(type) {
	case string:
		return c.SubstituteString(t)
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = c.Substitute(x)
		}
		return out
	case *pyfmt.Map:
		if t == nil {
			return t
		}
		out := pyfmt.NewMap()
		for _, k := range t.Keys() {
			out.Set(k, c.Substitute(t.Value(k)))
		}
		return out
	default:
		return v
	}
}

// SubstituteString substitutes one string: exactly "${NAME}" with NAME
// bound yields the bound value; otherwise every bound ${NAME} inside is
// replaced by str(value) and the result is a string.
func (c *Context) SubstituteString(s string) any {
	if !strings.Contains(s, "${") {
		return s
	}
	if m := reference.FindStringSubmatchIndex(s); m != nil && m[0] == 0 && m[1] == len(s) {
		if v, ok := c.Get(s[m[2]:m[3]]); ok {
			return v
		}
		return s
	}
	return reference.ReplaceAllStringFunc(s, func(ref string) string {
		name := ref[2 : len(ref)-1]
		if v, ok := c.Get(name); ok {
			return pyfmt.Str(v)
		}
		return ref
	})
}

// SubstituteText is SubstituteString forced to text: a whole-string
// reference to a non-string value yields its Python str().
func (c *Context) SubstituteText(s string) string {
	return pyfmt.Str(c.SubstituteString(s))
}
