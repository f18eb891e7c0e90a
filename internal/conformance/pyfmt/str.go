package pyfmt

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
)

// Str is Python's str(v): a string is itself, anything else is its repr.
func Str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return Repr(v)
}

// Repr is Python's repr(v) for a model value. Values outside the model are
// formatted with %v inside angle brackets.
func Repr(v any) string {
	var b strings.Builder
	writeRepr(&b, v)
	return b.String()
}

func writeRepr(b *strings.Builder, v any) {
	switch t := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if t {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case int64:
		b.WriteString(strconv.FormatInt(t, 10))
	case *big.Int:
		if t == nil {
			b.WriteString("None")
			return
		}
		b.WriteString(t.String())
	case float64:
		b.WriteString(FloatRepr(t))
	case string:
		b.WriteString(StrRepr(t))
	case []any:
		b.WriteByte('[')
		for i, x := range t {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, x)
		}
		b.WriteByte(']')
	case *Map:
		b.WriteByte('{')
		for i, k := range t.Keys() {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(StrRepr(k))
			b.WriteString(": ")
			writeRepr(b, t.vals[k])
		}
		b.WriteByte('}')
	default:
		fmt.Fprintf(b, "<%T %v>", v, v)
	}
}

// StrRepr is Python's repr() of a str: single quotes unless the string
// contains a single quote and no double quote; backslash escapes for the
// quote, backslash, \t \n \r; \xNN for other control characters and DEL;
// printable non-ASCII characters as they are; other non-printable
// characters as \xNN, \uNNNN or \UNNNNNNNN (lower-case hex).
func StrRepr(s string) string {
	quote := '\''
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		quote = '"'
	}
	var b strings.Builder
	b.WriteRune(quote)
	for _, r := range s {
		switch {
		case r == quote || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < ' ' || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x7f:
			b.WriteRune(r)
		case isPrintable(r):
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteRune(quote)
	return b.String()
}

// isPrintable approximates Python's str.isprintable for one non-ASCII
// character: letters, marks, numbers, punctuation and symbols are
// printable; separators other than the ASCII space, control, format,
// surrogate, private-use and unassigned characters are not.
func isPrintable(r rune) bool {
	return unicode.IsPrint(r)
}

// FloatRepr is Python's repr() of a float: the shortest string that
// round-trips, in fixed notation with at least one fractional digit
// ("1.0", "0.0001", "1000000000000000.0") when the decimal exponent is in
// [-4, 16), in scientific notation otherwise ("1e-05", "1e+16",
// "1.5e+300"); "inf", "-inf" and "nan" for the special values.
func FloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	// Shortest round-trip digits and exponent: "-d.ddde±XX".
	e := strconv.FormatFloat(f, 'e', -1, 64)
	sign := ""
	if e[0] == '-' {
		sign, e = "-", e[1:]
	}
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	if exp < -4 || exp >= 16 {
		out := digits[:1]
		if len(digits) > 1 {
			out += "." + digits[1:]
		}
		es := "+"
		if exp < 0 {
			es, exp = "-", -exp
		}
		return fmt.Sprintf("%s%se%s%02d", sign, out, es, exp)
	}
	decpt := exp + 1 // digits before the decimal point
	switch {
	case decpt <= 0:
		return sign + "0." + strings.Repeat("0", -decpt) + digits
	case decpt < len(digits):
		return sign + digits[:decpt] + "." + digits[decpt:]
	default:
		return sign + digits + strings.Repeat("0", decpt-len(digits)) + ".0"
	}
}
