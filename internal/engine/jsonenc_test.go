package engine

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// jsonFiller sets fields of a value at random: each field is left zero or
// given a value, strings are drawn from ones that need every kind of
// escaping, pointers and slices are allocated, so that many draws reach
// every member and every omitempty case.
type jsonFiller struct {
	rng *rand.Rand
}

var fillerStrings = []string{
	"", "plain", `quote " and backslash \`, "tab\tnewline\ncr\rbell\bform\f", "\x00\x01\x1f control",
	"<html> & ampersand", "unicode é ✓ 😀", "line\u2028para\u2029", "bad utf8 \xff\xfe end", "a:b/c%2F",
}

var (
	timestampType = reflect.TypeFor[Timestamp]()
	timeType      = reflect.TypeFor[time.Time]()
)

func (f *jsonFiller) fill(v reflect.Value) {
	switch v.Type() {
	case timestampType, timeType:
		ts := []time.Time{
			time.UnixMilli(1767323045000).UTC(), time.UnixMilli(1767323045123).UTC(),
			time.UnixMilli(1767323045120).In(time.FixedZone("X", 3600)), time.Unix(0, 1).UTC(),
		}[f.rng.IntN(4)]
		v.Set(reflect.ValueOf(ts).Convert(v.Type()))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(fillerStrings[f.rng.IntN(len(fillerStrings))])
	case reflect.Bool:
		v.SetBool(f.rng.IntN(2) == 1)
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt([]int64{0, 1, -7, 42, 1 << 31, -1 << 31}[f.rng.IntN(6)] % (1 << (v.Type().Bits() - 1)))
	case reflect.Uint64:
		v.SetUint([]uint64{0, 1, 1 << 63}[f.rng.IntN(3)])
	case reflect.Pointer:
		if f.rng.IntN(3) == 0 {
			return
		}
		p := reflect.New(v.Type().Elem())
		f.fill(p.Elem())
		v.Set(p)
	case reflect.Slice:
		n := f.rng.IntN(3)
		if n == 0 && f.rng.IntN(2) == 0 {
			return // nil
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			f.fill(s.Index(i))
		}
		v.Set(s)
	case reflect.Struct:
		for i := range v.NumField() {
			if !v.Type().Field(i).IsExported() && v.Type().Field(i).Tag.Get("json") == "" {
				continue
			}
			if f.rng.IntN(4) == 0 {
				continue // leave zero
			}
			f.fill(v.Field(i))
		}
	default:
		panic("jsonFiller: unhandled kind " + v.Kind().String() + " of " + v.Type().String())
	}
}

// stdJSON is encoding/json's encoding of v with HTML escaping off.
func stdJSON(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func TestJSONEncodersMatch(t *testing.T) {
	f := &jsonFiller{rng: rand.New(rand.NewPCG(1, 2))}
	for _, tc := range []struct {
		name   string
		encode func(t *testing.T) (got, want []byte)
	}{
		{"Operation", func(t *testing.T) ([]byte, []byte) {
			var op Operation
			f.fill(reflect.ValueOf(&op).Elem())
			return op.appendJSON(nil), stdJSON(t, &op)
		}},
		{"opRecord", func(t *testing.T) ([]byte, []byte) {
			var r opRecord
			f.fill(reflect.ValueOf(&r).Elem())
			return r.appendJSON(nil), stdJSON(t, &r)
		}},
		{"execData", func(t *testing.T) ([]byte, []byte) {
			var d execData
			f.fill(reflect.ValueOf(&d).Elem())
			got, err := d.appendJSON(nil)
			if err != nil {
				t.Fatal(err)
			}
			return got, stdJSON(t, &d)
		}},
		{"Event", func(t *testing.T) ([]byte, []byte) {
			var e Event
			f.fill(reflect.ValueOf(&e).Elem())
			return e.appendJSON(nil), stdJSON(t, &e)
		}},
		{"CheckpointOutput", func(t *testing.T) ([]byte, []byte) {
			var c CheckpointOutput
			f.fill(reflect.ValueOf(&c).Elem())
			return c.AppendJSON(nil), stdJSON(t, &c)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := range 3000 {
				got, want := tc.encode(t)
				if !bytes.Equal(got, want) {
					t.Fatalf("draw %d:\n got %s\nwant %s", i, got, want)
				}
				if i == 0 && !json.Valid(got) {
					t.Fatalf("invalid JSON: %s", got)
				}
			}
		})
	}
}

// Every exported field of the encoded types is reached by the draws: a
// field added to a type without its encoder makes the comparison above
// fail, provided the filler sets it.
func TestJSONFillerReachesEveryField(t *testing.T) {
	f := &jsonFiller{rng: rand.New(rand.NewPCG(3, 4))}
	for _, typ := range []reflect.Type{reflect.TypeFor[opRecord](), reflect.TypeFor[execData](), reflect.TypeFor[Event](), reflect.TypeFor[CheckpointOutput]()} {
		seen := map[string]bool{}
		for range 300 {
			v := reflect.New(typ).Elem()
			f.fill(v)
			b, err := json.Marshal(v.Interface())
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			for k := range m {
				seen[k] = true
			}
		}
		for i := range typ.NumField() {
			sf := typ.Field(i)
			name := jsonName(sf)
			if name == "-" || sf.Anonymous {
				continue
			}
			if !seen[name] {
				t.Errorf("%s.%s (%q) never encoded by the draws", typ, sf.Name, name)
			}
		}
	}
}

func jsonName(sf reflect.StructField) string {
	tag := sf.Tag.Get("json")
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		return sf.Name
	}
	return name
}
