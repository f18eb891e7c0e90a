package runtime

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/duro-run/duro/internal/store"
)

// Worker output capture.
//
// Each worker's stdout and stderr are pipes that Duro reads line by line.
// A line is attributed to the invocation the worker was running when it
// wrote the line. Reading happens later than writing, so "the invocation
// in progress when the line is read" would misattribute the tail of one
// invocation to the next. Instead Duro keeps its own copy of each pipe's
// write end and writes a marker line into the pipe when it hands the worker
// a new invocation: everything the process wrote before is ahead of the
// marker in the pipe, everything after is behind it, so the reader switches
// tags at exactly the right place. The marker carries a per-worker nonce,
// so output cannot forge one. (Lines written between two invocations
// belong to the earlier one, as in Lambda.) A second kind of marker is a
// barrier: when an invocation ends Duro writes one and waits for the reader
// to reach it, so that every line of the invocation is stored by the time
// its result is.

// A worker that serves several invocations at once (managed instances)
// cannot be followed by markers: its invocations' lines interleave. Its
// runtime writes each console line as Lambda's Node.js runtime does,
// "<time>\t<request id>\t<LEVEL>\t<message>", and the reader attributes
// a line by the request id it names, among the invocations the worker is
// serving (track/untrack). Other lines belong to no invocation.

// maxLogLine bounds one stored line; longer output is split (CloudWatch's
// event limit is 256 KiB too).
const maxLogLine = 256 << 10

// logTag is what a line is attributed to.
type logTag struct {
	RequestID    string `json:"r,omitempty"`
	ExecutionArn string `json:"a,omitempty"`
}

// logCapture reads one worker's output.
type logCapture struct {
	function, version string
	prefix            []byte // "\x00duro-<nonce>:", starts every marker
	sink              *logWriter
	echo              io.Writer
	// concurrent: lines are attributed by the request id they carry.
	concurrent bool

	tmu  sync.Mutex
	tags map[string]logTag // by request ID, for concurrent workers

	// writers are Duro's copies of the pipes' write ends, for markers.
	wmu     sync.Mutex
	writers []*os.File

	bmu      sync.Mutex
	barrier  uint64
	barriers map[uint64]chan struct{} // by id; closed by the reader that reaches it (per stream)

	wg sync.WaitGroup // reader goroutines
}

// newLogCapture creates the two pipes of a worker. It returns the ends the
// child gets as stdout and stderr; the caller closes them once the child
// has started.
func newLogCapture(function, version, nonce string, sink *logWriter, echo io.Writer, concurrent bool) (lc *logCapture, stdout, stderr *os.File, err error) {
	lc = &logCapture{
		function: function, version: version, sink: sink, echo: echo, concurrent: concurrent, tags: map[string]logTag{},
		prefix: []byte("\x00duro-" + nonce + ":"), barriers: map[uint64]chan struct{}{},
	}
	var readers []*os.File
	var childEnds []*os.File
	for range 2 {
		r, w, perr := os.Pipe()
		if perr != nil {
			for _, f := range append(append(readers, childEnds...), lc.writers...) {
				f.Close()
			}
			return nil, nil, nil, fmt.Errorf("create output pipe: %w", perr)
		}
		// The child gets w itself; Duro keeps a duplicate for markers.
		dup, derr := dupFile(w)
		if derr != nil {
			r.Close()
			w.Close()
			for _, f := range append(append(readers, childEnds...), lc.writers...) {
				f.Close()
			}
			return nil, nil, nil, derr
		}
		readers = append(readers, r)
		childEnds = append(childEnds, w)
		lc.writers = append(lc.writers, dup)
	}
	for i, name := range []string{"stdout", "stderr"} {
		lc.wg.Add(1)
		go lc.read(name, readers[i])
	}
	return lc, childEnds[0], childEnds[1], nil
}

// setTag attributes what the worker writes from now on to tag.
func (lc *logCapture) setTag(tag logTag) {
	b, _ := json.Marshal(tag)
	lc.writeMarker("t" + base64.RawStdEncoding.EncodeToString(b))
}

// track attributes the lines that name tag.RequestID to tag (concurrent
// workers).
func (lc *logCapture) track(tag logTag) {
	lc.tmu.Lock()
	lc.tags[tag.RequestID] = tag
	lc.tmu.Unlock()
}

// untrack forgets an invocation that has ended and whose lines are read.
func (lc *logCapture) untrack(requestID string) {
	lc.tmu.Lock()
	delete(lc.tags, requestID)
	lc.tmu.Unlock()
}

// lineTag finds the invocation a concurrent worker's line names.
func (lc *logCapture) lineTag(line []byte) logTag {
	_, rest, ok := bytes.Cut(line, []byte{'\t'})
	if !ok {
		return logTag{}
	}
	id, _, ok := bytes.Cut(rest, []byte{'\t'})
	if !ok {
		return logTag{}
	}
	lc.tmu.Lock()
	defer lc.tmu.Unlock()
	return lc.tags[string(id)]
}

// sync waits until the readers have passed everything the worker wrote so
// far (or until ctx ends, or the pipes are closed).
func (lc *logCapture) sync(ctx context.Context) {
	lc.bmu.Lock()
	lc.barrier++
	id := lc.barrier
	chans := []chan struct{}{make(chan struct{}), make(chan struct{})}
	lc.barriers[id*2] = chans[0]
	lc.barriers[id*2+1] = chans[1]
	lc.bmu.Unlock()
	defer func() {
		lc.bmu.Lock()
		delete(lc.barriers, id*2)
		delete(lc.barriers, id*2+1)
		lc.bmu.Unlock()
	}()
	if !lc.writeMarker(fmt.Sprintf("s%d", id)) {
		return
	}
	for _, ch := range chans {
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
}

// writeMarker writes one marker line to both pipes. Writes of at most
// PIPE_BUF bytes are atomic, so a marker never interleaves with output.
func (lc *logCapture) writeMarker(body string) bool {
	lc.wmu.Lock()
	defer lc.wmu.Unlock()
	if lc.writers == nil {
		return false
	}
	line := append(append(append([]byte(nil), lc.prefix...), body...), '\n')
	ok := true
	for _, w := range lc.writers {
		if _, err := w.Write(line); err != nil {
			ok = false
		}
	}
	return ok
}

// closeWriters drops Duro's write ends once the process is gone, so that
// the readers see end-of-file when the last descendant closes its ends.
func (lc *logCapture) closeWriters() {
	lc.wmu.Lock()
	defer lc.wmu.Unlock()
	for _, w := range lc.writers {
		w.Close()
	}
	lc.writers = nil
}

// wait blocks until both readers have finished or ctx ends.
func (lc *logCapture) wait(ctx context.Context) {
	done := make(chan struct{})
	go func() { lc.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// read turns one pipe into log rows.
func (lc *logCapture) read(stream string, r *os.File) {
	defer lc.wg.Done()
	defer r.Close()
	br := bufio.NewReaderSize(r, maxLogLine)
	var tag logTag
	var carry []byte // output before a marker that interrupted a line
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			if i := bytes.Index(chunk, lc.prefix); i >= 0 && chunk[len(chunk)-1] == '\n' {
				carry = append(carry, chunk[:i]...)
				lc.marker(stream, string(chunk[i+len(lc.prefix):len(chunk)-1]), &tag)
			} else {
				line := append(carry, chunk...)
				carry = nil
				if err == nil || err == io.EOF {
					lc.emit(stream, tag, line)
				} else if errors.Is(err, bufio.ErrBufferFull) {
					lc.emit(stream, tag, line) // an over-long line, in pieces
				}
			}
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			if len(carry) > 0 {
				lc.emit(stream, tag, carry)
			}
			lc.releaseBarriers()
			return
		}
	}
}

// marker applies a marker seen on stream.
func (lc *logCapture) marker(stream, body string, tag *logTag) {
	if body == "" {
		return
	}
	switch body[0] {
	case 't':
		var t logTag
		if b, err := base64.RawStdEncoding.DecodeString(body[1:]); err == nil && json.Unmarshal(b, &t) == nil {
			*tag = t
		}
	case 's':
		var id uint64
		if _, err := fmt.Sscanf(body[1:], "%d", &id); err != nil {
			return
		}
		key := id * 2
		if stream == "stderr" {
			key++
		}
		lc.bmu.Lock()
		ch := lc.barriers[key]
		delete(lc.barriers, key)
		lc.bmu.Unlock()
		if ch != nil {
			close(ch)
		}
	}
}

// releaseBarriers unblocks every sync of a stream that has ended.
func (lc *logCapture) releaseBarriers() {
	lc.bmu.Lock()
	defer lc.bmu.Unlock()
	for k, ch := range lc.barriers {
		close(ch)
		delete(lc.barriers, k)
	}
}

// emit stores one line.
func (lc *logCapture) emit(stream string, tag logTag, line []byte) {
	if lc.concurrent {
		tag = lc.lineTag(line)
	}
	msg := strings.TrimRight(string(line), "\r\n")
	if lc.concurrent && tag.RequestID != "" {
		// The runtime wrote the message's own line breaks as \r, to keep
		// it one line with its request id.
		msg = strings.ReplaceAll(msg, "\r", "\n")
	}
	row := store.LogRow{
		Time: time.Now().UTC(), FunctionName: lc.function, FunctionVersion: lc.version,
		RequestID: tag.RequestID, ExecutionArn: tag.ExecutionArn, Stream: stream, Message: msg,
	}
	// The durable SDKs log JSON lines naming their execution
	// (executionArn, or durableExecutionArn); trust those over the tag.
	if strings.HasPrefix(msg, "{") && strings.Contains(msg, "xecutionArn\"") {
		var j struct {
			ExecutionArn        string `json:"executionArn"`
			DurableExecutionArn string `json:"durableExecutionArn"`
			RequestID           string `json:"requestId"`
		}
		if json.Unmarshal([]byte(msg), &j) == nil {
			if j.DurableExecutionArn != "" {
				row.ExecutionArn = j.DurableExecutionArn
			}
			if j.ExecutionArn != "" {
				row.ExecutionArn = j.ExecutionArn
			}
			if j.RequestID != "" {
				row.RequestID = j.RequestID
			}
		}
	}
	if lc.echo != nil {
		fmt.Fprintf(lc.echo, "[%s] %s\n", lc.function, msg)
	}
	lc.sink.add(row)
}

// Batching.

const (
	logBatchRows  = 512
	logBatchDelay = 100 * time.Millisecond
	logQueue      = 4096
	logWriteLimit = 10 * time.Second
)

// logWriter batches rows into the sink: one store write per batch, never
// one per line. A full queue blocks the readers, which blocks the worker's
// writes: backpressure rather than lost lines.
type logWriter struct {
	sink LogSink
	log  *slog.Logger

	mu     sync.RWMutex // guards closed and the send side of rows
	closed bool
	rows   chan store.LogRow
	flushC chan chan struct{}
	quit   chan struct{}
	done   chan struct{}
}

func newLogWriter(sink LogSink, log *slog.Logger) *logWriter {
	w := &logWriter{
		sink: sink, log: log, rows: make(chan store.LogRow, logQueue),
		flushC: make(chan chan struct{}), quit: make(chan struct{}), done: make(chan struct{}),
	}
	go w.run()
	return w
}

// add queues a row; after close it is dropped.
func (w *logWriter) add(r store.LogRow) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed || w.sink == nil {
		return
	}
	w.rows <- r
}

// flush writes every row queued so far, waiting at most until ctx ends.
func (w *logWriter) flush(ctx context.Context) {
	req := make(chan struct{})
	select {
	case w.flushC <- req:
	case <-w.done:
		return
	case <-ctx.Done():
		return
	}
	select {
	case <-req:
	case <-ctx.Done():
	}
}

// close writes what is queued and stops the writer.
func (w *logWriter) close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.quit)
	}
	w.mu.Unlock()
	<-w.done
}

func (w *logWriter) run() {
	defer close(w.done)
	var batch []store.LogRow
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	drain := func() {
		for {
			select {
			case r := <-w.rows:
				batch = append(batch, r)
			default:
				return
			}
		}
	}
	write := func() {
		timer.Stop()
		for len(batch) > 0 {
			n := min(len(batch), logBatchRows)
			ctx, cancel := context.WithTimeout(context.Background(), logWriteLimit)
			if err := w.sink.AppendLogs(ctx, batch[:n]); err != nil {
				w.log.Warn("store function logs", "rows", n, "err", err)
			}
			cancel()
			batch = batch[n:]
		}
		batch = nil
	}
	for {
		select {
		case r := <-w.rows:
			if len(batch) == 0 {
				timer.Reset(logBatchDelay)
			}
			batch = append(batch, r)
			if len(batch) >= logBatchRows {
				write()
			}
		case <-timer.C:
			write()
		case req := <-w.flushC:
			drain()
			write()
			close(req)
		case <-w.quit:
			drain()
			write()
			return
		}
	}
}
