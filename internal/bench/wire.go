package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duro-run/duro/internal/fastjson"
	"github.com/duro-run/duro/internal/mux"
	"github.com/duro-run/duro/internal/uuid"
)

// wireOp is an operation as the envelope, a checkpoint response and
// GetDurableExecutionState carry it; only what the player reads.
// ScheduledEndTimestamp is epoch milliseconds in the envelope and epoch
// seconds in API responses.
type wireOp struct {
	Id          string `json:"Id"`
	ParentId    string `json:"ParentId"`
	Type        string `json:"Type"`
	Status      string `json:"Status"`
	StepDetails *struct {
		Result *string `json:"Result"`
	} `json:"StepDetails"`
	WaitDetails *struct {
		ScheduledEndTimestamp *float64 `json:"ScheduledEndTimestamp"`
	} `json:"WaitDetails"`
	CallbackDetails *struct {
		CallbackId *string `json:"CallbackId"`
	} `json:"CallbackDetails"`
}

// envelope is the invocation payload of a durable function.
type envelope struct {
	DurableExecutionArn   string `json:"DurableExecutionArn"`
	CheckpointToken       string `json:"CheckpointToken"`
	InitialExecutionState struct {
		Operations []wireOp `json:"Operations"`
		NextMarker string   `json:"NextMarker"`
	} `json:"InitialExecutionState"`
	UpdatedOperationIds []string `json:"UpdatedOperationIds"`
}

// update is one OperationUpdate of a checkpoint request.
type update struct {
	Id              string           `json:"Id"`
	ParentId        string           `json:"ParentId,omitempty"`
	Name            string           `json:"Name,omitempty"`
	Type            string           `json:"Type"`
	SubType         string           `json:"SubType,omitempty"`
	Action          string           `json:"Action"`
	Payload         *string          `json:"Payload,omitempty"`
	WaitOptions     *waitOptions     `json:"WaitOptions,omitempty"`
	CallbackOptions *callbackOptions `json:"CallbackOptions,omitempty"`
}

type waitOptions struct {
	WaitSeconds int32 `json:"WaitSeconds"`
}

type callbackOptions struct {
	TimeoutSeconds int32 `json:"TimeoutSeconds,omitempty"`
}

type checkpointRequest struct {
	CheckpointToken string   `json:"CheckpointToken"`
	ClientToken     string   `json:"ClientToken"`
	Updates         []update `json:"Updates"`
}

// appendJSON appends the request as encoding/json writes it (with HTML
// escaping off, which the server's decoder does not mind): the load
// generator sends one per checkpoint, and reflection was most of what
// encoding it cost.
func (r checkpointRequest) appendJSON(b []byte) []byte {
	b = append(b, `{"CheckpointToken":`...)
	b = fastjson.AppendString(b, r.CheckpointToken)
	b = append(b, `,"ClientToken":`...)
	b = fastjson.AppendString(b, r.ClientToken)
	b = append(b, `,"Updates":`...)
	if r.Updates == nil {
		return append(b, "null}"...)
	}
	b = append(b, '[')
	for i := range r.Updates {
		if i > 0 {
			b = append(b, ',')
		}
		b = r.Updates[i].appendJSON(b)
	}
	return append(b, "]}"...)
}

// sizeHint is about the length of the request's JSON, so that encoding it
// takes one allocation (escapes and options may grow it a little).
func (r checkpointRequest) sizeHint() int {
	n := 64 + len(r.CheckpointToken) + len(r.ClientToken)
	for i := range r.Updates {
		u := &r.Updates[i]
		n += 96 + len(u.Id) + len(u.ParentId) + len(u.Name)
		if u.Payload != nil {
			n += 16 + len(*u.Payload) + len(*u.Payload)/8
		}
	}
	return n
}

func (u *update) appendJSON(b []byte) []byte {
	b = fastjson.AppendString(append(b, `{"Id":`...), u.Id)
	b = appendOptional(b, `,"ParentId":`, u.ParentId)
	b = appendOptional(b, `,"Name":`, u.Name)
	b = fastjson.AppendString(append(b, `,"Type":`...), u.Type)
	b = appendOptional(b, `,"SubType":`, u.SubType)
	b = fastjson.AppendString(append(b, `,"Action":`...), u.Action)
	if u.Payload != nil {
		b = fastjson.AppendString(append(b, `,"Payload":`...), *u.Payload)
	}
	if o := u.WaitOptions; o != nil {
		b = append(strconv.AppendInt(append(b, `,"WaitOptions":{"WaitSeconds":`...), int64(o.WaitSeconds), 10), '}')
	}
	if o := u.CallbackOptions; o != nil {
		b = append(b, `,"CallbackOptions":{`...)
		if o.TimeoutSeconds != 0 {
			b = strconv.AppendInt(append(b, `"TimeoutSeconds":`...), int64(o.TimeoutSeconds), 10)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendOptional appends a string member tagged omitempty: key (with its
// leading comma) and value, unless value is empty.
func appendOptional(b []byte, key, value string) []byte {
	if value == "" {
		return b
	}
	return fastjson.AppendString(append(b, key...), value)
}

type checkpointResponse struct {
	CheckpointToken   *string `json:"CheckpointToken"`
	NewExecutionState struct {
		Operations []wireOp `json:"Operations"`
		NextMarker string   `json:"NextMarker"`
	} `json:"NewExecutionState"`
}

type stateResponse struct {
	Operations []wireOp `json:"Operations"`
	NextMarker string   `json:"NextMarker"`
}

// wireClient speaks the durable execution API over plain HTTP, with one
// keep-alive connection pool for everything the load generator sends. Its
// transport times every CheckpointDurableExecution round trip, whoever
// sends it (the lean player or the durable SDK).
type wireClient struct {
	base string
	http *http.Client
	// lean serves the load generator's own requests when the server is
	// plain HTTP; nil otherwise.
	lean *leanTransport
	// mux, when set, carries every request instead, over the server's
	// Unix socket in its multiplexed protocol (overMux).
	mux *mux.Client
	// bodies keeps checkpoint request buffers (*[]byte) for reuse over
	// mux.
	bodies sync.Pool
	m      *measurements
}

// newWireClient returns a client for the server at base with room for
// conns idle keep-alive connections, so that a closed-loop load never
// re-dials.
func newWireClient(base string, conns int, m *measurements) *wireClient {
	base = strings.TrimSuffix(base, "/")
	var tr http.RoundTripper
	var lean *leanTransport
	if u, err := url.Parse(base); err == nil && u.Scheme == "http" && u.Path == "" {
		lean = newLeanTransport(u.Host, conns)
		tr = lean
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 0
		t.MaxIdleConnsPerHost = conns
		t.IdleConnTimeout = 5 * time.Minute
		tr = t
	}
	return &wireClient{base: base, http: &http.Client{Transport: &timingTransport{next: tr, m: m}}, lean: lean, m: m}
}

// overSocket returns a client for the same server that sends its requests
// over the server's Unix socket at path. c must use the lean transport
// (functionClient checks).
func (c *wireClient) overSocket(path string, conns int) *wireClient {
	lean := newLeanTransport(c.lean.host, conns)
	lean.socket = path
	return &wireClient{base: c.base, http: &http.Client{Transport: &timingTransport{next: lean, m: c.m}}, lean: lean, m: c.m}
}

// overMux returns a client for the same server that sends its requests
// over one multiplexed connection on the server's Unix socket at path, as
// Duro's Node workers do.
func (c *wireClient) overMux(ctx context.Context, path string) (*wireClient, error) {
	mc, err := mux.Dial(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", path, err)
	}
	return &wireClient{base: c.base, http: c.http, mux: mc, m: c.m}, nil
}

func (c *wireClient) close() {
	if c.mux != nil {
		c.mux.Close()
		return
	}
	c.http.CloseIdleConnections()
}

// timingTransport records the round trip of each checkpoint request, from
// sending it to the end of its response body.
type timingTransport struct {
	next http.RoundTripper
	m    *measurements
}

func (t *timingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/checkpoint") {
		return t.next.RoundTrip(r)
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		t.m.checkpointErrors.Add(1)
		return resp, err
	}
	ok := resp.StatusCode == http.StatusOK
	resp.Body = &timedBody{ReadCloser: resp.Body, done: func() { t.m.recordCheckpoint(ok, time.Since(start)) }}
	return resp, nil
}

// CloseIdleConnections closes the wrapped transport's idle connections.
func (t *timingTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// timedBody calls done once, when the body is exhausted or closed.
type timedBody struct {
	io.ReadCloser
	once atomic.Bool
	done func()
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && b.once.CompareAndSwap(false, true) {
		b.done()
	}
	return n, err
}

func (b *timedBody) Close() error {
	if b.once.CompareAndSwap(false, true) {
		b.done()
	}
	return b.ReadCloser.Close()
}

// apiError is a non-2xx answer of the API.
type apiError struct {
	Status int
	Body   string
}

func (e *apiError) Error() string { return fmt.Sprintf("HTTP %d: %.300s", e.Status, e.Body) }

// do sends a request and decodes a JSON answer into out (nil: discard). It
// returns the answer's X-Amz-Function-Error header. A body is sent as
// application/json unless header says otherwise.
func (c *wireClient) do(ctx context.Context, method, path string, header http.Header, body []byte, out any) (string, error) {
	switch {
	case body == nil || header.Get("Content-Type") != "":
	case header == nil:
		header = jsonHeader // shared, never written: no map per checkpoint
	default:
		header = header.Clone()
		header["Content-Type"] = jsonHeader["Content-Type"]
	}
	var r leanReply
	var err error
	start := time.Now()
	switch {
	case c.mux != nil:
		var mr *mux.Response
		if mr, err = c.mux.Do(ctx, method, path, header, body); err == nil {
			r = leanReply{status: mr.Status, functionError: mr.HeaderValue("X-Amz-Function-Error"), body: mr.Body}
			// Everything taken from the answer below is copied out of it
			// (the decoders copy their strings, an error its body).
			defer mr.Release()
		}
	case c.lean != nil:
		r, err = c.lean.exchange(ctx, method, path, header, body)
	default:
		// Timed by the http.Client's timingTransport.
		r, err = c.viaClient(ctx, method, path, header, body)
	}
	if (c.mux != nil || c.lean != nil) && method == http.MethodPost && strings.HasSuffix(path, "/checkpoint") {
		c.m.recordCheckpoint(err == nil && r.status == http.StatusOK, time.Since(start))
	}
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", method, path, err)
	}
	if r.status >= 300 {
		return r.functionError, fmt.Errorf("%s %s: %w", method, path, &apiError{Status: r.status, Body: string(r.body)})
	}
	if out != nil && len(r.body) > 0 {
		if err := c.m.unmarshal(r.body, out); err != nil {
			return "", fmt.Errorf("%s %s: decode response: %w", method, path, err)
		}
	}
	return r.functionError, nil
}

// jsonHeader is the header of a request with a JSON body and nothing else
// to say; read only.
var jsonHeader = http.Header{"Content-Type": {"application/json"}}

// viaClient sends a request through the http.Client, for a server the lean
// transport does not serve (https, or a base URL with a path).
func (c *wireClient) viaClient(ctx context.Context, method, path string, header http.Header, body []byte) (leanReply, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return leanReply{}, err
	}
	maps.Copy(req.Header, header)
	resp, err := c.http.Do(req)
	if err != nil {
		return leanReply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return leanReply{}, fmt.Errorf("read response: %w", err)
	}
	return leanReply{status: resp.StatusCode, functionError: resp.Header.Get("X-Amz-Function-Error"), body: b}, nil
}

// executionPaths are the request paths of one execution's API calls, built
// once per invocation rather than escaped again for every checkpoint.
type executionPaths struct {
	checkpoint, state string
}

func pathsOf(arn string) executionPaths {
	p := "/2025-12-01/durable-executions/" + url.PathEscape(arn)
	return executionPaths{checkpoint: p + "/checkpoint", state: p + "/state?"}
}

// checkpoint sends CheckpointDurableExecution with a fresh ClientToken,
// as the AWS SDKs do (they fill the idempotency token in).
func (c *wireClient) checkpoint(ctx context.Context, paths executionPaths, token string, updates []update) (*checkpointResponse, error) {
	r := checkpointRequest{CheckpointToken: token, ClientToken: uuid.New(), Updates: updates}
	var buf *[]byte
	if c.mux != nil {
		// The multiplexed client has copied a request into its writer
		// when Do returns, so the buffer can serve the next one.
		buf, _ = c.bodies.Get().(*[]byte)
	}
	if buf == nil {
		buf = new([]byte)
	}
	body := r.appendJSON(slices.Grow((*buf)[:0], r.sizeHint()))
	var out checkpointResponse
	_, err := c.do(ctx, http.MethodPost, paths.checkpoint, nil, body, &out)
	if c.mux != nil {
		*buf = body
		c.bodies.Put(buf)
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// state pages GetDurableExecutionState.
func (c *wireClient) state(ctx context.Context, paths executionPaths, token, marker string) (*stateResponse, error) {
	q := url.Values{"CheckpointToken": {token}, "Marker": {marker}, "MaxItems": {"1000"}}
	var out stateResponse
	if _, err := c.do(ctx, http.MethodGet, paths.state+q.Encode(), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// errFunction is a synchronous Invoke whose execution did not succeed.
var errFunction = errors.New("execution did not succeed")

// invoke starts an execution of function (qualifier $LATEST). A
// synchronous invoke waits for the execution to end and fails with
// errFunction unless it succeeded; an asynchronous one returns at once.
func (c *wireClient) invoke(ctx context.Context, function string, payload []byte, async bool) error {
	h := http.Header{}
	if async {
		h.Set("X-Amz-Invocation-Type", "Event")
	}
	path := "/2015-03-31/functions/" + url.PathEscape(function) + "/invocations?Qualifier=%24LATEST"
	var out json.RawMessage
	fe, err := c.do(ctx, http.MethodPost, path, h, payload, &out)
	if err != nil {
		return err
	}
	if fe != "" {
		return fmt.Errorf("invoke %s: %w: %s: %.300s", function, errFunction, fe, out)
	}
	return nil
}

// callbackSuccess sends SendDurableExecutionCallbackSuccess.
func (c *wireClient) callbackSuccess(ctx context.Context, callbackID string, result []byte) error {
	path := "/2025-12-01/durable-execution-callbacks/" + url.PathEscape(callbackID) + "/succeed"
	_, err := c.do(ctx, http.MethodPost, path, http.Header{"Content-Type": {"application/octet-stream"}}, result, nil)
	return err
}

// storeMetrics are a server's group-commit counters, and the checkpoint
// and invocation counters the JS client mode reads (its checkpoints are
// sent by the Node workers, not by the load generator).
type storeMetrics struct {
	transactions int64         // committed transactions (one WAL fsync each)
	commits      int64         // mutations they carried
	busy         time.Duration // time spent in transactions
	sync         time.Duration // of which in COMMIT (WAL write + fsync)
	// walPages is duro_store_commit_wal_pages' sum (pages the committed
	// transactions wrote to the WAL), -1 when the server does not report it.
	walPages int64

	checkpoints, checkpointErrors int64 // duro_checkpoints_total by outcome
	updates                       int64 // operation updates they carried
	invocations, invocationErrors int64 // duro_invocations_total (errors: failed, timeout, error)
	checkpointCount               int64 // duro_checkpoint_duration_seconds
	checkpointTime                time.Duration
	muxRequests                   int64 // duro_mux_requests_total

	// The duro_store_mutation_*_seconds histograms: where each mutation's
	// time went, indexed by mutationPhases.
	mutation [len(mutationPhases)]promHistogram
	// waitLag is duro_timer_lag_seconds{kind="wait"}.
	waitLag promHistogram
	// commitSync is duro_store_commit_sync_seconds: each transaction's
	// COMMIT (its WAL write and fsync).
	commitSync promHistogram
	// engineCheckpoint is duro_checkpoint_duration_seconds: each
	// checkpoint's time in the engine (validation, apply, durable commit).
	engineCheckpoint promHistogram
}

// mutationPhases are the histograms that split a store mutation's time.
var mutationPhases = [...]string{
	"duro_store_mutation_queued_seconds",
	"duro_store_mutation_transaction_seconds",
	"duro_store_mutation_resumed_seconds",
}

// promHistogram is one scraped Prometheus histogram: cumulative counts by
// upper bound (the +Inf bucket is count), sum and count.
type promHistogram struct {
	bounds []float64
	counts []float64
	sum    float64
	count  float64
}

// histogramSeries splits a series name of the histogram metric into its
// suffix (_bucket, _sum or _count) and its labels ("{...}" or "").
func histogramSeries(name, metric string) (suffix, labels string, ok bool) {
	rest, ok := strings.CutPrefix(name, metric)
	if !ok {
		return "", "", false
	}
	suffix, labels, found := strings.Cut(rest, "{")
	if found {
		labels = "{" + labels
	}
	return suffix, labels, suffix == "_bucket" || suffix == "_sum" || suffix == "_count"
}

// add records one series line of h: a bucket, _sum or _count.
func (h *promHistogram) add(suffix, labels string, v float64) {
	switch suffix {
	case "_sum":
		h.sum = v
	case "_count":
		h.count = v
	case "_bucket":
		i := strings.Index(labels, `le="`)
		if i < 0 {
			return
		}
		le, _, ok := strings.Cut(labels[i+len(`le="`):], `"`)
		if !ok || le == "+Inf" {
			return
		}
		var b float64
		if _, err := fmt.Sscan(le, &b); err == nil {
			h.bounds = append(h.bounds, b)
			h.counts = append(h.counts, v)
		}
	}
}

// since returns the observations h has that earlier had not. Both come
// from the same server, so their buckets are the same.
func (h promHistogram) since(earlier promHistogram) promHistogram {
	out := promHistogram{bounds: h.bounds, sum: h.sum - earlier.sum, count: h.count - earlier.count}
	out.counts = make([]float64, len(h.counts))
	for i := range h.counts {
		out.counts[i] = h.counts[i]
		if i < len(earlier.counts) {
			out.counts[i] -= earlier.counts[i]
		}
	}
	return out
}

// quantile estimates the q-quantile the way Prometheus's
// histogram_quantile does: linearly within the bucket it falls in. Past
// the last finite bucket it returns that bucket's bound.
func (h promHistogram) quantile(q float64) float64 {
	if h.count <= 0 || len(h.bounds) == 0 {
		return 0
	}
	rank := q * h.count
	lower, below := 0.0, 0.0
	for i, b := range h.bounds {
		if h.counts[i] >= rank {
			in := h.counts[i] - below
			if in <= 0 {
				return b
			}
			return lower + (b-lower)*(rank-below)/in
		}
		lower, below = b, h.counts[i]
	}
	return h.bounds[len(h.bounds)-1]
}

// scrapeStoreMetrics reads a server's group-commit counters from /metrics.
func (c *wireClient) scrapeStoreMetrics(ctx context.Context) (storeMetrics, error) {
	out := storeMetrics{walPages: -1}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/metrics", nil)
	if err != nil {
		return out, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return out, fmt.Errorf("GET /metrics: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("GET /metrics: HTTP %d %v", resp.StatusCode, err)
	}
	found := 0
	for line := range strings.SplitSeq(string(b), "\n") {
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		var f float64
		if _, err := fmt.Sscan(val, &f); err != nil {
			continue
		}
		switch {
		case name == `duro_checkpoints_total{outcome="ok"}`:
			out.checkpoints = int64(f)
		case name == `duro_checkpoints_total{outcome="error"}`:
			out.checkpointErrors = int64(f)
		case name == "duro_checkpoint_updates_sum":
			out.updates = int64(f)
		case name == "duro_checkpoint_duration_seconds_count":
			out.checkpointCount = int64(f)
		case name == "duro_checkpoint_duration_seconds_sum":
			out.checkpointTime = time.Duration(f * float64(time.Second))
		case name == "duro_mux_requests_total":
			out.muxRequests = int64(f)
		case strings.HasPrefix(name, "duro_invocations_total{"):
			out.invocations += int64(f)
			if !strings.Contains(name, `outcome="succeeded"`) && !strings.Contains(name, `outcome="pending"`) {
				out.invocationErrors += int64(f)
			}
		}
		if suffix, labels, ok := histogramSeries(name, "duro_timer_lag_seconds"); ok && strings.Contains(labels, `kind="wait"`) {
			out.waitLag.add(suffix, labels, f)
		}
		if suffix, labels, ok := histogramSeries(name, "duro_store_commit_sync_seconds"); ok {
			out.commitSync.add(suffix, labels, f)
		}
		if suffix, labels, ok := histogramSeries(name, "duro_checkpoint_duration_seconds"); ok {
			out.engineCheckpoint.add(suffix, labels, f)
		}
		for i, phase := range mutationPhases {
			if suffix, labels, ok := histogramSeries(name, phase); ok {
				out.mutation[i].add(suffix, labels, f)
			}
		}
		switch name {
		case "duro_store_commit_batch_size_count":
			out.transactions = int64(f)
		case "duro_store_commit_batch_size_sum":
			out.commits = int64(f)
		case "duro_store_commit_duration_seconds_sum":
			out.busy = time.Duration(f * float64(time.Second))
		case "duro_store_commit_sync_seconds_sum":
			out.sync = time.Duration(f * float64(time.Second))
		case "duro_store_commit_wal_pages_sum":
			out.walPages = int64(f)
		default:
			continue
		}
		found++
	}
	if found < 3 {
		return out, errors.New("GET /metrics: no duro_store_commit_batch_size and duro_store_commit_duration_seconds series")
	}
	return out, nil
}
