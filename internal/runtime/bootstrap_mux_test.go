//go:build unix

package runtime

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duro-run/duro/internal/mux"
)

// The Node bootstrap's side of the socket's multiplexed protocol, against
// a hand-written server that answers a turn's requests in reverse order, a
// byte per write, and a large answer in pieces: each request must get its
// own answer however the frames arrive.

const muxScriptHandler = `
export const handler = async (event) => {
  const c = event.durableExecutionClient;
  const arn = (s) => "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST/durable-execution/" + s + "/id";
  const outs = await Promise.all([1, 2, 3, 4, 5].map((i) =>
    c.checkpoint({ DurableExecutionArn: arn("e" + i), CheckpointToken: "t" + i, Updates: [{ Id: "a", Type: "STEP", Action: "START", Payload: "héllo ✓ " + i }] })));
  const st = await c.getExecutionState({ DurableExecutionArn: arn("big"), CheckpointToken: "tb", MaxItems: 1000 });
  let err = null;
  try {
    await c.checkpoint({ DurableExecutionArn: arn("stale"), CheckpointToken: "ts", Updates: [] });
  } catch (e) {
    err = { name: e.name, message: e.message, status: e.$metadata.httpStatusCode };
  }
  const stats = globalThis[Symbol.for('duro.leanDurableClient')];
  return { tokens: outs.map((o) => o.CheckpointToken), n: st.Operations.length, last: st.Operations[st.Operations.length - 1].Id,
    err, socket: stats.socket, answers: stats.socketAnswers };
};
`

// muxRequest is a request frame as the fake server reads it.
type muxRequest struct {
	id     uint32
	target string
	body   string
}

func readMuxRequest(br *bufio.Reader) (muxRequest, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return muxRequest{}, err
	}
	p := make([]byte, binary.BigEndian.Uint32(hdr[:4])-4)
	if _, err := io.ReadFull(br, p); err != nil {
		return muxRequest{}, err
	}
	line, _, _ := strings.Cut(string(p), "\n")
	_, target, _ := strings.Cut(line, " ")
	_, body, _ := strings.Cut(string(p), "\n\n")
	return muxRequest{id: binary.BigEndian.Uint32(hdr[4:]), target: target, body: body}, nil
}

func muxAnswer(id uint32, status int, header, body string) []byte {
	p := fmt.Sprintf("%d\n%s\n%s", status, header, body)
	b := binary.BigEndian.AppendUint32(nil, uint32(4+len(p)))
	b = binary.BigEndian.AppendUint32(b, id)
	return append(b, p...)
}

func TestBootstrapLeanClientOverMux(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "api.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan error, 1)
	go func() {
		served <- func() error {
			c, err := ln.Accept()
			if err != nil {
				return err
			}
			defer c.Close()
			br := bufio.NewReader(c)
			pre := make([]byte, len(mux.Preface))
			if _, err := io.ReadFull(br, pre); err != nil || string(pre) != mux.Preface {
				return fmt.Errorf("preface %q, %v", pre, err)
			}
			var turn []muxRequest
			for len(turn) < 5 {
				r, err := readMuxRequest(br)
				if err != nil {
					return err
				}
				turn = append(turn, r)
			}
			for i := len(turn) - 1; i >= 0; i-- { // reverse order, a byte at a time
				arn := turn[i].target[strings.Index(turn[i].target, "%2Fdurable-execution%2F")+len("%2Fdurable-execution%2F"):]
				name, _, _ := strings.Cut(arn, "%2F")
				var req struct {
					CheckpointToken string
					Updates         []struct{ Payload string }
				}
				if err := json.Unmarshal([]byte(turn[i].body), &req); err != nil || req.CheckpointToken != "t"+name[1:] ||
					len(req.Updates) != 1 || req.Updates[0].Payload != "héllo ✓ "+name[1:] {
					return fmt.Errorf("request for %s arrived as %q (%v)", name, turn[i].body, err)
				}
				for _, b := range muxAnswer(turn[i].id, 200, "Content-Type: application/json\n", `{"CheckpointToken":"`+name+`-next","NewExecutionState":{}}`) {
					if _, err := c.Write([]byte{b}); err != nil {
						return err
					}
				}
			}
			r, err := readMuxRequest(br)
			if err != nil {
				return err
			}
			var ops []string
			for i := range 2000 {
				ops = append(ops, fmt.Sprintf(`{"Id":"op-%d","Type":"STEP","Status":"SUCCEEDED","StartTimestamp":1767323045}`, i))
			}
			big := muxAnswer(r.id, 200, "", `{"Operations":[`+strings.Join(ops, ",")+`]}`)
			for len(big) > 0 { // in pieces that split frames and headers anywhere
				n := min(len(big), 777)
				if _, err := c.Write(big[:n]); err != nil {
					return err
				}
				big = big[n:]
			}
			if r, err = readMuxRequest(br); err != nil {
				return err
			}
			_, err = c.Write(muxAnswer(r.id, 400, "X-Amzn-Errortype: InvalidParameterValueException\nContent-Type: application/json\n",
				`{"message":"Invalid Checkpoint Token: stale"}`))
			return err
		}()
	}()

	r, fn := bootstrapHostWithSocket(t, muxScriptHandler, nil, sock)
	var rep struct {
		Tokens []string
		N      int
		Last   string
		Err    *struct {
			Name, Message string
			Status        int
		}
		Socket  bool
		Answers int
	}
	invokeJSON(t, r, fn, leanEnvelope, &rep)
	if err := <-served; err != nil {
		t.Fatalf("fake server: %v", err)
	}
	if got := strings.Join(rep.Tokens, ","); got != "e1-next,e2-next,e3-next,e4-next,e5-next" {
		t.Errorf("checkpoints answered out of order got tokens %s; want each its own", got)
	}
	if rep.N != 2000 || rep.Last != "op-1999" {
		t.Errorf("large answer in pieces: %d operations, last %q", rep.N, rep.Last)
	}
	if e := rep.Err; e == nil || e.Name != "InvalidParameterValueException" || e.Status != 400 || e.Message != "Invalid Checkpoint Token: stale" {
		t.Errorf("error answer: %+v", e)
	}
	if !rep.Socket || rep.Answers != 7 {
		t.Errorf("socket %v, %d answers over it; want true, 7", rep.Socket, rep.Answers)
	}
}
