package pyfmt

import (
	"math"
	"math/big"
)

// Equal is Python's a == b for model values. Numbers compare by value
// across bool, int and float (True == 1, 1 == 1.0, NaN != NaN, an int and a
// float are equal only when the float is exactly that integer); a str
// never equals a number; lists compare element by element; dicts compare
// key sets and values regardless of order; None equals only None.
func Equal(a, b any) bool {
	if isNumber(a) && isNumber(b) {
		return numEqual(a, b)
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case *Map:
		y, ok := b.(*Map)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for _, k := range x.Keys() {
			yv, ok := y.Get(k)
			if !ok || !Equal(x.vals[k], yv) {
				return false
			}
		}
		return true
	}
	return false
}

// IsNumber reports whether v is a bool, an int or a float (Python's
// numbers, bool being a subclass of int).
func IsNumber(v any) bool { return isNumber(v) }

func isNumber(v any) bool {
	switch t := v.(type) {
	case bool, int64, float64:
		return true
	case *big.Int:
		return t != nil
	}
	return false
}

// AsFloat converts a number to float64 (Python's float(v)); ok is false for
// a non-number.
func AsFloat(v any) (f float64, ok bool) {
	switch t := v.(type) {
	case bool:
		if t {
			return 1, true
		}
		return 0, true
	case int64:
		return float64(t), true
	case *big.Int:
		if t == nil {
			return 0, false
		}
		f, _ := new(big.Float).SetInt(t).Float64()
		return f, true
	case float64:
		return t, true
	}
	return 0, false
}

// asBigInt returns an integral number (bool or int) as a big.Int.
func asBigInt(v any) (*big.Int, bool) {
	switch t := v.(type) {
	case bool:
		if t {
			return big.NewInt(1), true
		}
		return big.NewInt(0), true
	case int64:
		return big.NewInt(t), true
	case *big.Int:
		return t, t != nil
	}
	return nil, false
}

func numEqual(a, b any) bool {
	ai, aInt := asBigInt(a)
	bi, bInt := asBigInt(b)
	switch {
	case aInt && bInt:
		return ai.Cmp(bi) == 0
	case !aInt && !bInt:
		return a.(float64) == b.(float64)
	case aInt:
		return intEqualsFloat(ai, b.(float64))
	default:
		return intEqualsFloat(bi, a.(float64))
	}
}

// intEqualsFloat compares exactly, as Python does (2**53+1 != 2.0**53).
func intEqualsFloat(i *big.Int, f float64) bool {
	if math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) {
		return false
	}
	bf := new(big.Float).SetInt(i)
	return bf.Cmp(big.NewFloat(f)) == 0
}
