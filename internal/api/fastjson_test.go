package api

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// stdCheckpointRequest decodes body the way parseCheckpoint does without
// the fast decoder.
func stdCheckpointRequest(body []byte) (checkpointRequest, error) {
	var req checkpointRequest
	err := decodeJSON(body, &req)
	return req, err
}

// agree checks that whatever the fast decoder accepts, encoding/json
// accepts too and decodes to the same value.
func agree(t *testing.T, body []byte) (fast bool) {
	t.Helper()
	got, ok := decodeCheckpointFast(body)
	if !ok {
		return false
	}
	want, err := stdCheckpointRequest(body)
	if err != nil {
		t.Fatalf("fast decoder accepted what encoding/json rejects (%v):\n%s", err, body)
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Fatalf("decoders differ on\n%s\nfast: %s\nstd:  %s", body, g, w)
	}
	return true
}

// randomCheckpointBody writes a checkpoint request with random members,
// values, spacing and, sometimes, what the fast decoder must give up on.
func randomCheckpointBody(rng *rand.Rand) []byte {
	strs := []string{`""`, `"plain"`, `"with \"quotes\" and \\ backslash"`, `"\/\b\f\n\r\t"`, `"\u00e9\u2028 \u0041"`,
		`"é ✓ 😀"`, `"{\"Result\":1}"`, `"\ud83d\ude00"`, `"bad \xff utf8"`, `null`, `5`, `"tab	raw"`}
	ints := []string{"0", "-0", "1", "42", "-7", "2147483647", "-2147483648", "2147483648", "1.0", "1e2", "01", `"3"`, "null", "true"}
	ws := func() string { return []string{"", " ", "\n\t", "\r\n  "}[rng.IntN(4)] }
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	var b strings.Builder
	object := func(members map[string]func() string, names []string) {
		b.WriteString("{" + ws())
		n := 0
		for _, name := range names {
			if rng.IntN(3) == 0 {
				continue
			}
			if n > 0 {
				b.WriteString("," + ws())
			}
			n++
			key := name
			switch rng.IntN(40) {
			case 0:
				key = strings.ToLower(name) // encoding/json matches it anyway
			case 1:
				key = "Unknown"
			}
			b.WriteString(strconv.Quote(key) + ws() + ":" + ws() + members[name]())
			if rng.IntN(60) == 0 { // a repeated member
				b.WriteString("," + strconv.Quote(key) + ":" + members[name]())
			}
		}
		b.WriteString(ws() + "}")
	}
	str := func() string { return pick(strs) }
	integer := func() string { return pick(ints) }
	opts := func(fields ...string) func() string {
		return func() string {
			if rng.IntN(8) == 0 {
				return "null"
			}
			var o strings.Builder
			o.WriteString("{")
			for i, f := range fields {
				if i > 0 {
					o.WriteString(",")
				}
				v := integer()
				switch f {
				case "ReplayChildren":
					v = pick([]string{"true", "false", "null", "1"})
				case "FunctionName", "TenantId", "XAmznTraceId":
					v = str()
				}
				o.WriteString(strconv.Quote(f) + ":" + v)
			}
			o.WriteString("}")
			return o.String()
		}
	}
	errorObject := func() string {
		if rng.IntN(6) == 0 {
			return "null"
		}
		trace := "[" + str() + "," + str() + "]"
		if rng.IntN(4) == 0 {
			trace = pick([]string{"[]", "null", "[null]"})
		}
		return `{"ErrorMessage":` + str() + `,"ErrorType":` + str() + `,"ErrorData":` + str() + `,"StackTrace":` + trace + `}`
	}
	update := map[string]func() string{
		"Id": str, "ParentId": str, "Name": str, "Type": str, "SubType": str, "Action": str, "Payload": str,
		"Error":                errorObject,
		"ContextOptions":       opts("ReplayChildren"),
		"StepOptions":          opts("NextAttemptDelaySeconds"),
		"WaitOptions":          opts("WaitSeconds"),
		"CallbackOptions":      opts("TimeoutSeconds", "HeartbeatTimeoutSeconds"),
		"ChainedInvokeOptions": opts("FunctionName", "TenantId", "XAmznTraceId"),
	}
	updateNames := []string{"Id", "ParentId", "Name", "Type", "SubType", "Action", "Payload", "Error",
		"ContextOptions", "StepOptions", "WaitOptions", "CallbackOptions", "ChainedInvokeOptions"}
	top := map[string]func() string{
		"CheckpointToken": str, "ClientToken": str,
		"Updates": func() string {
			if rng.IntN(10) == 0 {
				return "null"
			}
			var u strings.Builder
			u.WriteString("[")
			for i := range rng.IntN(4) {
				if i > 0 {
					u.WriteString("," + ws())
				}
				saved := b
				b = strings.Builder{}
				object(update, updateNames)
				u.WriteString(b.String())
				b = saved
			}
			u.WriteString("]")
			return u.String()
		},
	}
	object(top, []string{"CheckpointToken", "ClientToken", "Updates"})
	out := b.String() + ws()
	switch rng.IntN(30) {
	case 0:
		out += "x" // trailing data
	case 1:
		out = out[:rng.IntN(len(out)+1)] // cut short
	}
	return []byte(out)
}

func TestCheckpointFastDecoderAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	fast := 0
	const n = 20000
	for range n {
		if agree(t, randomCheckpointBody(rng)) {
			fast++
		}
	}
	// The generator mostly writes what SDKs send; most of it must take the
	// fast path, or the decoder is not doing its job.
	if fast < n/10 {
		t.Fatalf("only %d of %d bodies took the fast path", fast, n)
	}
	t.Logf("%d of %d bodies decoded by the fast path", fast, n)

	// What the JS SDK sends for a step, and an empty checkpoint.
	for _, body := range []string{
		`{"DurableExecutionArn":"x","CheckpointToken":"tok","ClientToken":"c","Updates":[{"Id":"1","Type":"STEP","SubType":"Step","Action":"START","Name":"s"},{"Id":"1","Type":"STEP","SubType":"Step","Action":"SUCCEED","Payload":"{\"a\":1}"}]}`,
		`{"CheckpointToken":"tok","ClientToken":"c","Updates":[{"Id":"1","Type":"STEP","SubType":"Step","Action":"START","Name":"s"},{"Id":"1","Type":"STEP","SubType":"Step","Action":"SUCCEED","Payload":"{\"a\":1}"}]}`,
		`{"CheckpointToken":"tok","Updates":[]}`,
		`{"CheckpointToken":"tok","Updates":[{"Id":"w","Type":"WAIT","Action":"START","WaitOptions":{"WaitSeconds":5}}]}`,
	} {
		want := !strings.Contains(body, "DurableExecutionArn") // an unknown member: encoding/json's path
		if got := agree(t, []byte(body)); got != want {
			t.Errorf("fast path taken = %v, want %v for %s", got, want, body)
		}
	}
}

func FuzzCheckpointFastDecoder(f *testing.F) {
	rng := rand.New(rand.NewPCG(9, 10))
	for range 50 {
		f.Add(randomCheckpointBody(rng))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		agree(t, body)
	})
}

// BenchmarkCheckpointDecode decodes one step's checkpoint as the JS SDK
// sends it, with the fast decoder and with encoding/json.
func BenchmarkCheckpointDecode(b *testing.B) {
	body := []byte(`{"CheckpointToken":"QwEwMWEyMTczZS00MDQ0LTdiOGItODY5Mi02ZTEwYmJmNzUwNmQ=","ClientToken":"8d0c7a4e-1f7e-4b44-a0f4-3c3f2b1e9a11","Updates":[{"Id":"c4ca4238a0b92382","Type":"STEP","SubType":"Step","Action":"START","Name":"step-1"},{"Id":"c4ca4238a0b92382","Type":"STEP","SubType":"Step","Action":"SUCCEED","Payload":"\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\""}]}`)
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := decodeCheckpointFast(body); !ok {
				b.Fatal("not decoded")
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := stdCheckpointRequest(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}
