package fastjson

import (
	"encoding/json"
	"reflect"
	"testing"
)

// doc is what the tests decode: a few members by name, the rest skipped.
type doc struct {
	Name  *string  `json:"Name"`
	Score *float64 `json:"Score"`
	Count *int32   `json:"Count"`
	On    *bool    `json:"On"`
}

// decodeDoc reads a doc, skipping unknown members (SkipUnknown gives up
// on a case variant of a known one, which encoding/json would take).
func decodeDoc(b []byte) (doc, bool) {
	var out doc
	d := NewDecoder(b)
	d.Object(func(key string) bool {
		switch key {
		case "Name":
			out.Name = d.StrPtr()
		case "Score":
			out.Score = d.Float64Ptr()
		case "Count":
			out.Count = d.Int32Ptr()
		case "On":
			out.On = d.BoolPtr()
		default:
			return d.SkipUnknown(key, "Name", "Score", "Count", "On")
		}
		return !d.Failed()
	})
	return out, d.End()
}

var docCorpus = []string{
	`{}`,
	`{"Name":"a","Score":1.5,"Count":3,"On":true}`,
	`{"Name":null,"Score":null,"Count":null,"On":null}`,
	`{"Other":{"x":[1,2,{"y":"z"}],"w":null},"Name":"b"}`,
	`{"Score":-0.5e-3}`, `{"Score":1E+2}`, `{"Score":0}`, `{"Score":-0}`,
	`{"Score":1e400}`, `{"Score":01}`, `{"Score":1.}`, `{"Score":.5}`, `{"Score":-}`, `{"Score":1e}`,
	`{"Skip":[true,false,null,"s\"\\u00e9",-12.5e+7]}`,
	`{"Skip":[[[[]]]],"On":false}`,
	`{"name":"case"}`, `{"Name":"a","Name":"b"}`,
	`{"Skip":tru}`, `{"Skip":"unterminated}`, `{"Skip":[1,]}`, `{"Skip":{"a":1,}}`,
	`{"Name":"x"} trailing`, ` {"Name" : "spaced" , "Count" : -7 } `,
	`{"Skip":"\ud83d\ude00"}`, `{"Skip":"\xff"}`,
	`{"Name":"a\"b\\c\/d\n\t\b\f\r\u00e9\u20ac"}`, `{"Name":"\u0041"}`, `{"Name":"x\""}`, `{"Name":"\"\"\""}`,
	`{"Name":"\u"}`, `{"Name":"\u00"}`, `{"Name":"\q"}`, `{"Name":"\ud83d\ude00"}`, `{"Name":"é€\n😀 ok"}`,
	`{"Name":"\n\u0000\uffff"}`, `{"Name":"run \"` + "\xff" + `\" run"}`, `{"Name":"ends with \\`,
}

// TestDecoderAgreesWithEncodingJSON checks, on documents of many shapes,
// that whatever the decoder accepts decodes to what encoding/json gives,
// and that it accepts the well-formed ones a hot path sends.
func TestDecoderAgreesWithEncodingJSON(t *testing.T) {
	mustAccept := map[string]bool{
		`{"Name":"a","Score":1.5,"Count":3,"On":true}`:        true,
		`{"Other":{"x":[1,2,{"y":"z"}],"w":null},"Name":"b"}`: true,
		`{"Skip":[true,false,null,"s\"\\u00e9",-12.5e+7]}`:    true,
		` {"Name" : "spaced" , "Count" : -7 } `:               true,
		`{"Score":-0.5e-3}`:                                   true,
	}
	for _, s := range docCorpus {
		checkDoc(t, []byte(s), mustAccept[s])
	}
}

func checkDoc(t *testing.T, b []byte, mustAccept bool) {
	t.Helper()
	got, ok := decodeDoc(b)
	if !ok {
		if mustAccept {
			t.Errorf("%s: gave up", b)
		}
		return
	}
	var want doc
	if err := json.Unmarshal(b, &want); err != nil {
		t.Errorf("%s: accepted, but encoding/json fails: %v", b, err)
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: decoded %+v, encoding/json %+v", b, got, want)
	}
}

// FuzzDecoder checks the same on arbitrary input.
func FuzzDecoder(f *testing.F) {
	for _, s := range docCorpus {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkDoc(t, b, false) })
}
