package runner

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/duro-run/duro/internal/conformance/callbacks"
	"github.com/duro-run/duro/internal/conformance/pyfmt"
)

// MinHTTPTimeout is the shortest HTTP timeout NewClient accepts: a
// synchronous Invoke blocks until the durable execution ends.
const MinHTTPTimeout = 900 * time.Second

// NewClient returns a Lambda client for a Duro endpoint: region us-east-1,
// static dummy credentials, and an HTTP timeout of at least
// MinHTTPTimeout. Retries follow the SDK's standard policy except for
// Invoke, which the runner always calls with retries disabled (a retried
// Invoke would start a second execution).
func NewClient(endpoint string, httpTimeout time.Duration) *lambda.Client {
	if httpTimeout < MinHTTPTimeout {
		httpTimeout = MinHTTPTimeout
	}
	return lambda.New(lambda.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDDURO", "duro-conformance", ""),
		HTTPClient:   &http.Client{Timeout: httpTimeout},
	})
}

// noRetry disables retries for one call.
func noRetry(o *lambda.Options) { o.RetryMaxAttempts = 1 }

// captureBody returns an option that copies the raw HTTP response body of
// one call into *dst before the SDK deserialises it.
func captureBody(dst *[]byte) func(*lambda.Options) {
	return func(o *lambda.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Deserialize.Add(middleware.DeserializeMiddlewareFunc("DuroConformanceCaptureBody",
				func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
					out, md, err := next.HandleDeserialize(ctx, in)
					if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp != nil && resp.Body != nil {
						b, rerr := io.ReadAll(resp.Body)
						resp.Body.Close()
						if rerr != nil {
							return out, md, fmt.Errorf("read response body: %w", rerr)
						}
						*dst = b
						resp.Body = io.NopCloser(bytes.NewReader(b))
					}
					return out, md, err
				}), middleware.After)
		})
	}
}

// fetchHistory makes one GetDurableExecutionHistory call with
// IncludeExecutionData=true, as upstream does (no pagination), and returns
// the events as the wire JSON decoded into the pyfmt model — null members
// dropped, as botocore drops them — along with the raw body. Matching the
// wire JSON rather than the SDK's structs keeps every member the server
// sent, with its JSON type; the SDK still parses the response, so a wire
// format error fails the call.
func fetchHistory(ctx context.Context, client *lambda.Client, arn string) ([]any, []byte, error) {
	var raw []byte
	_, err := client.GetDurableExecutionHistory(ctx, &lambda.GetDurableExecutionHistoryInput{
		DurableExecutionArn:  aws.String(arn),
		IncludeExecutionData: aws.Bool(true),
	}, captureBody(&raw))
	if err != nil {
		return nil, raw, err
	}
	v, err := pyfmt.JSONLoads(string(raw))
	if err != nil {
		return nil, raw, fmt.Errorf("decode history JSON: %w", err)
	}
	v = dropNulls(v)
	m, ok := v.(*pyfmt.Map)
	if !ok {
		return nil, raw, fmt.Errorf("history response is a %s, want an object", pyfmt.TypeName(v))
	}
	events, _ := m.Value("Events").([]any)
	return events, raw, nil
}

// dropNulls removes null-valued mapping members recursively.
func dropNulls(v any) any {
	switch t := v.(type) {
	case *pyfmt.Map:
		out := pyfmt.NewMap()
		for _, k := range t.Keys() {
			if x := t.Value(k); x != nil {
				out.Set(k, dropNulls(x))
			}
		}
		return out
	case []any:
		for i, x := range t {
			t[i] = dropNulls(x)
		}
		return t
	}
	return v
}

// callbackSender sends CallbackActions through the Lambda API.
type callbackSender struct{ client *lambda.Client }

var _ callbacks.Sender = callbackSender{}

// Success implements callbacks.Sender.
func (s callbackSender) Success(ctx context.Context, id string, result []byte) error {
	_, err := s.client.SendDurableExecutionCallbackSuccess(ctx, &lambda.SendDurableExecutionCallbackSuccessInput{
		CallbackId: aws.String(id), Result: result,
	})
	return err
}

// Failure implements callbacks.Sender.
func (s callbackSender) Failure(ctx context.Context, id string, e *callbacks.ErrorObject) error {
	in := &lambda.SendDurableExecutionCallbackFailureInput{CallbackId: aws.String(id)}
	if e != nil {
		in.Error = &types.ErrorObject{ErrorType: e.ErrorType, ErrorMessage: e.ErrorMessage, ErrorData: e.ErrorData, StackTrace: e.StackTrace}
	}
	_, err := s.client.SendDurableExecutionCallbackFailure(ctx, in)
	return err
}

// Heartbeat implements callbacks.Sender.
func (s callbackSender) Heartbeat(ctx context.Context, id string) error {
	_, err := s.client.SendDurableExecutionCallbackHeartbeat(ctx, &lambda.SendDurableExecutionCallbackHeartbeatInput{CallbackId: aws.String(id)})
	return err
}
