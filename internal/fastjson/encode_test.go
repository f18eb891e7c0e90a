package fastjson

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestAppendString: every kind of character comes out as encoding/json
// writes it with HTML escaping off.
func TestAppendString(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " and \ backslash`, "tab\tnewline\nreturn\rbs\bff\f",
		"\x00\x01\x1f\x7f", "<a&b>", "é ü 日本", "\u2028\u2029", "bad \xff utf-8 \xc3",
		`{"Payload":"\"x\""}`,
	} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		got := AppendString([]byte("prefix:"), s)
		if string(got) != "prefix:"+string(bytes.TrimSuffix(want.Bytes(), []byte("\n"))) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got[len("prefix:"):], want.Bytes())
		}
	}
}
