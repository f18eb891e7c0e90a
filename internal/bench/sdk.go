package bench

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/duro-run/duro/internal/durable"
	"github.com/duro-run/duro/internal/engine"
)

// sdkClient returns an AWS SDK Lambda client that sends through the wire
// client's instrumented connection pool.
func sdkClient(c *wireClient) *lambda.Client {
	return lambda.New(lambda.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(c.base),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDDURO", "duro-secret", ""),
		HTTPClient:   c.http,
	})
}

// sdkFunc returns the scenario written with internal/durable (the AWS SDK
// for Go underneath), to compare the client's cost with the lean player's.
// Fan-out branches run one after the other: a durable.Context is not safe
// for concurrent use.
func (p *player) sdkFunc(scenario string, client *lambda.Client) invocationFunc {
	var fn durable.Func
	result := json.RawMessage(*p.payload)
	step := func(c *durable.Context, name string) error {
		_, err := c.Step(name, func() (any, error) { return result, nil })
		return err
	}
	switch scenario {
	case ScenarioSteps:
		fn = func(c *durable.Context, _ json.RawMessage) (any, error) {
			for i := range p.cfg.Steps {
				if err := step(c, fmt.Sprint("step-", i)); err != nil {
					return nil, err
				}
			}
			return "ok", nil
		}
	case ScenarioWaits:
		fn = func(c *durable.Context, _ json.RawMessage) (any, error) {
			for i := range p.cfg.Steps {
				if err := step(c, fmt.Sprint("step-", i)); err != nil {
					return nil, err
				}
				if err := c.Wait(fmt.Sprint("wait-", i), int32(p.cfg.WaitSeconds)); err != nil {
					return nil, err
				}
			}
			return "ok", nil
		}
	case ScenarioCallbacks:
		fn = func(c *durable.Context, _ json.RawMessage) (any, error) {
			for i := range p.cfg.Steps {
				if err := step(c, fmt.Sprint("step-", i)); err != nil {
					return nil, err
				}
				id, wait := c.Callback(fmt.Sprint("callback-", i), 3600, 0)
				if _, loaded := p.sdkSent.LoadOrStore(id, true); !loaded {
					select {
					case p.completions <- id:
					case <-c.Context().Done():
						return nil, c.Context().Err()
					}
				}
				if _, err := wait(); err != nil {
					return nil, err
				}
				p.sdkSent.Delete(id)
			}
			return "ok", nil
		}
	case ScenarioFanout:
		fn = func(c *durable.Context, _ json.RawMessage) (any, error) {
			return c.RunInChildContext("parallel", func(pc *durable.Context) (any, error) {
				for b := range p.cfg.Branches {
					_, err := pc.RunInChildContext(fmt.Sprint("branch-", b), func(bc *durable.Context) (any, error) {
						for i := range p.cfg.Steps {
							if err := step(bc, fmt.Sprint("step-", i)); err != nil {
								return nil, err
							}
						}
						return result, nil
					})
					if err != nil {
						return nil, err
					}
				}
				return result, nil
			})
		}
	default:
		panic("bench: unknown scenario " + scenario)
	}
	h := durable.Handler(client, fn)
	return func(ctx context.Context, _ *envelope, raw []byte) ([]byte, error) {
		resp, err := h(ctx, engine.Invocation{Payload: raw})
		if err != nil {
			return nil, err
		}
		if resp.FunctionError != "" {
			return nil, fmt.Errorf("durable handler: %s", resp.Payload)
		}
		return resp.Payload, nil
	}
}
