// Package tracing exports OpenTelemetry traces of durable executions over
// OTLP/HTTP. A Tracer implements engine.Observer and turns what the engine
// reports into spans:
//
//   - one span per execution ("duro.execution"), exported when the
//     execution ends, from its start to its end;
//   - one span per invocation ("duro.invocation"), a child of its
//     execution's span;
//   - one span per checkpoint ("duro.checkpoint"), a child of the span of
//     the invocation that sent it.
//
// All spans of an execution share one trace, whose ID is the execution's
// id (a UUID is used as is; other ids are hashed), so that the trace of an
// execution can be found from its ARN, and so that the spans of an
// execution that spans restarts of Duro still land in one trace. Span ids
// of executions and invocations are derived from the execution id and the
// request id, which is what lets a child name its parent without the
// engine keeping any tracing state. A parent span is exported when it
// ends, so until an execution ends its invocations' parent is missing from
// the backend.
//
// Spans are exported in batches in the background and dropped, never
// waited for, when the exporter falls behind; Shutdown flushes them.
package tracing

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/duro-run/duro/internal/engine"
)

// EndpointVariable is the standard OpenTelemetry variable naming the OTLP
// endpoint; `duro serve` takes its --otlp-endpoint default from it.
const EndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT"

// instrumentation names the tracer that makes Duro's spans.
const instrumentation = "github.com/duro-run/duro/internal/engine"

// Span attribute keys.
const (
	AttrExecutionArn = attribute.Key("duro.execution.arn")
	AttrExecutionID  = attribute.Key("duro.execution.id")
	AttrStatus       = attribute.Key("duro.execution.status")
	AttrFunction     = attribute.Key("duro.function")
	AttrRequestID    = attribute.Key("duro.request_id")
	AttrOutcome      = attribute.Key("duro.invocation.outcome")
	AttrUpdates      = attribute.Key("duro.checkpoint.updates")
	AttrErrorType    = attribute.Key("error.type")
)

// Config configures trace export.
type Config struct {
	// Endpoint is the OTLP/HTTP base URL, such as http://localhost:4318,
	// as in OTEL_EXPORTER_OTLP_ENDPOINT: spans are posted to its path plus
	// /v1/traces (a URL that already ends in /v1/traces is used as is). A
	// bare host:port means http. The exporter's other standard variables
	// (OTEL_EXPORTER_OTLP_HEADERS, ..._TIMEOUT, ..._COMPRESSION) apply.
	Endpoint string
	// ServiceVersion is reported as service.version when set.
	ServiceVersion string
	// BatchTimeout bounds how long a span waits before it is exported.
	// Default 5s.
	BatchTimeout time.Duration
}

// Tracer exports the engine's spans. Create it with New and stop it with
// Shutdown.
type Tracer struct {
	provider *sdktrace.TracerProvider
	tracer   trace.Tracer
}

var _ engine.Observer = (*Tracer)(nil)

// New starts an OTLP/HTTP trace exporter. Nothing is sent until there are
// spans; an unreachable endpoint shows up as export errors later, not here.
func New(ctx context.Context, cfg Config) (*Tracer, error) {
	endpoint, err := TracesURL(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter for %s: %w", endpoint, err)
	}
	attrs := []attribute.KeyValue{attribute.String("service.name", "duro")}
	if cfg.ServiceVersion != "" {
		attrs = append(attrs, attribute.String("service.version", cfg.ServiceVersion))
	}
	// Later options win: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES
	// override the defaults above.
	res, err := resource.New(ctx, resource.WithTelemetrySDK(), resource.WithAttributes(attrs...), resource.WithFromEnv())
	if err != nil && res == nil {
		_ = exp.Shutdown(ctx)
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	var batch []sdktrace.BatchSpanProcessorOption
	if cfg.BatchTimeout > 0 {
		batch = append(batch, sdktrace.WithBatchTimeout(cfg.BatchTimeout))
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, batch...),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithIDGenerator(idGenerator{}),
	)
	return &Tracer{provider: tp, tracer: tp.Tracer(instrumentation)}, nil
}

// TracesURL turns an OTLP base endpoint into the URL spans are posted to.
func TracesURL(endpoint string) (string, error) {
	if strings.TrimSpace(endpoint) == "" {
		return "", errors.New("tracing: empty OTLP endpoint")
	}
	raw := endpoint
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("tracing: invalid OTLP endpoint %q: %w", endpoint, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("tracing: invalid OTLP endpoint %q: want an http:// or https:// URL (OTLP/HTTP), such as http://localhost:4318", endpoint)
	}
	if !strings.HasSuffix(u.Path, "/v1/traces") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/traces"
	}
	return u.String(), nil
}

// Shutdown exports the spans still buffered and stops the exporter; it
// gives up when ctx ends.
func (t *Tracer) Shutdown(ctx context.Context) error {
	if err := t.provider.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: shutdown: %w", err)
	}
	return nil
}

// ExecutionStarted implements engine.Observer; the execution's span is
// made when it ends.
func (t *Tracer) ExecutionStarted(engine.ExecutionInfo) {}

// ExecutionFinished implements engine.Observer: the execution's span.
func (t *Tracer) ExecutionFinished(i engine.ExecutionInfo) {
	ctx := withIDs(context.Background(), traceIDOf(i.ExecutionID), executionSpanID(i.ExecutionID))
	_, span := t.tracer.Start(ctx, "duro.execution",
		trace.WithNewRoot(),
		trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithTimestamp(i.Start),
		trace.WithAttributes(
			AttrExecutionArn.String(i.ExecutionArn), AttrExecutionID.String(i.ExecutionID),
			AttrFunction.String(i.Function), AttrStatus.String(i.Status),
		))
	if i.Status != "SUCCEEDED" {
		span.SetStatus(codes.Error, i.Status)
	}
	span.End(trace.WithTimestamp(i.End))
}

// InvocationFinished implements engine.Observer: the invocation's span,
// a child of the execution's.
func (t *Tracer) InvocationFinished(i engine.InvocationInfo) {
	tid := traceIDOf(i.ExecutionID)
	ctx := withParent(context.Background(), tid, executionSpanID(i.ExecutionID))
	ctx = withIDs(ctx, tid, invocationSpanID(i.RequestID))
	_, span := t.tracer.Start(ctx, "duro.invocation",
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithTimestamp(i.Start),
		trace.WithAttributes(
			AttrExecutionArn.String(i.ExecutionArn), AttrExecutionID.String(i.ExecutionID),
			AttrFunction.String(i.Function), AttrRequestID.String(i.RequestID), AttrOutcome.String(i.Outcome),
		))
	if i.ErrorType != "" {
		span.SetAttributes(AttrErrorType.String(i.ErrorType))
	}
	if i.Outcome == engine.OutcomeError || i.Outcome == engine.OutcomeTimeout {
		span.SetStatus(codes.Error, i.ErrorType)
	}
	span.End(trace.WithTimestamp(i.End))
}

// Checkpointed implements engine.Observer: the checkpoint's span, a child
// of the invocation in flight (of the execution when there is none).
func (t *Tracer) Checkpointed(i engine.CheckpointInfo) {
	tid := traceIDOf(i.ExecutionID)
	parent := executionSpanID(i.ExecutionID)
	if i.RequestID != "" {
		parent = invocationSpanID(i.RequestID)
	}
	ctx := withParent(context.Background(), tid, parent)
	_, span := t.tracer.Start(ctx, "duro.checkpoint",
		trace.WithSpanKind(trace.SpanKindServer),
		trace.WithTimestamp(i.Start),
		trace.WithAttributes(
			AttrExecutionArn.String(i.ExecutionArn), AttrExecutionID.String(i.ExecutionID),
			AttrFunction.String(i.Function), AttrRequestID.String(i.RequestID), AttrUpdates.Int(i.Updates),
		))
	if i.Err != nil {
		span.SetStatus(codes.Error, i.Err.Error())
	}
	span.End(trace.WithTimestamp(i.End))
}

// TimerFired implements engine.Observer; timers make no spans.
func (t *Tracer) TimerFired(string, time.Duration) {}

// TraceIDOf returns the trace ID of an execution's spans: the execution id
// itself when it is a UUID, else a hash of it.
func TraceIDOf(executionID string) trace.TraceID { return traceIDOf(executionID) }

func traceIDOf(executionID string) trace.TraceID {
	var tid trace.TraceID
	if h := strings.ReplaceAll(executionID, "-", ""); len(h) == 32 && len(executionID) == 36 {
		if b, err := hex.DecodeString(h); err == nil {
			copy(tid[:], b)
			if tid.IsValid() {
				return tid
			}
		}
	}
	sum := sha256.Sum256([]byte("trace\x00" + executionID))
	copy(tid[:], sum[:])
	if !tid.IsValid() {
		tid[15] = 1
	}
	return tid
}

func executionSpanID(executionID string) trace.SpanID { return derivedSpanID("execution", executionID) }

func invocationSpanID(requestID string) trace.SpanID { return derivedSpanID("invocation", requestID) }

func derivedSpanID(kind, id string) trace.SpanID {
	sum := sha256.Sum256([]byte(kind + "\x00" + id))
	var sid trace.SpanID
	copy(sid[:], sum[:])
	if !sid.IsValid() {
		sid[7] = 1
	}
	return sid
}

// withParent makes a (remote, sampled) span the parent of the next span
// started from ctx.
func withParent(ctx context.Context, tid trace.TraceID, sid trace.SpanID) context.Context {
	return trace.ContextWithRemoteSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled, Remote: true,
	}))
}

// fixedIDs are the IDs the next span started from a context must get.
type fixedIDs struct {
	trace trace.TraceID
	span  trace.SpanID
}

type fixedIDsKey struct{}

func withIDs(ctx context.Context, tid trace.TraceID, sid trace.SpanID) context.Context {
	return context.WithValue(ctx, fixedIDsKey{}, fixedIDs{trace: tid, span: sid})
}

// idGenerator gives a span the IDs withIDs put in its context, and random
// ones otherwise.
type idGenerator struct{}

// NewIDs implements sdktrace.IDGenerator.
func (idGenerator) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	if f, ok := ctx.Value(fixedIDsKey{}).(fixedIDs); ok {
		return f.trace, f.span
	}
	var tid trace.TraceID
	for !tid.IsValid() {
		randomBytes(tid[:])
	}
	return tid, randomSpanID()
}

// NewSpanID implements sdktrace.IDGenerator.
func (idGenerator) NewSpanID(ctx context.Context, _ trace.TraceID) trace.SpanID {
	if f, ok := ctx.Value(fixedIDsKey{}).(fixedIDs); ok {
		return f.span
	}
	return randomSpanID()
}

func randomSpanID() trace.SpanID {
	var sid trace.SpanID
	for !sid.IsValid() {
		randomBytes(sid[:])
	}
	return sid
}

// randomBytes fills b (a multiple of 8 bytes long) from math/rand/v2's
// generator, which is safe for concurrent use; trace IDs need to be unique,
// not secret.
func randomBytes(b []byte) {
	for i := 0; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], rand.Uint64())
	}
}
