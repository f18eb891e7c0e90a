package console_test

import (
	"encoding/json"
	"errors"
	"sync/atomic"

	"github.com/duro-run/duro/internal/durable"
)

// xssPayload must show up in the console as these characters, never as an
// element.
const xssPayload = `<img src=x onerror=alert(1)>`

// seedFunctions registers the test's durable functions:
//   - order-workflow finishes: steps (one retried once), a child context
//     with two nested branch contexts, and a 1 s wait;
//   - approval waits on a callback, then finishes with its result;
//   - xss-demo finishes, with the XSS payload in its description, a step
//     name, its input and its result.
func seedFunctions(n *node) {
	var reserveCalls atomic.Int32
	n.durableFunction("order-workflow", "Charges and ships an order", func(c *durable.Context, in json.RawMessage) (any, error) {
		var order struct {
			OrderID string  `json:"orderId"`
			Total   float64 `json:"total"`
		}
		if err := json.Unmarshal(in, &order); err != nil {
			return nil, err
		}
		if _, err := c.Step("validate-order", func() (any, error) { return map[string]any{"valid": true}, nil }); err != nil {
			return nil, err
		}
		if _, err := c.Step("reserve-stock", func() (any, error) {
			if reserveCalls.Add(1) == 1 {
				return nil, errors.New("warehouse busy")
			}
			return map[string]any{"reserved": 3}, nil
		}, durable.WithRetries(3, 1)); err != nil {
			return nil, err
		}
		receipt, err := c.RunInChildContext("payment", func(pc *durable.Context) (any, error) {
			auth, err := pc.RunInChildContext("branch-authorize", func(bc *durable.Context) (any, error) {
				return bc.Step("authorize-card", func() (any, error) { return map[string]any{"authCode": "A-77"}, nil })
			})
			if err != nil {
				return nil, err
			}
			if _, err := pc.RunInChildContext("branch-fraud-check", func(bc *durable.Context) (any, error) {
				return bc.Step("score-risk", func() (any, error) { return map[string]any{"risk": 0.02}, nil })
			}); err != nil {
				return nil, err
			}
			return pc.Step("capture-charge", func() (any, error) {
				return map[string]any{"chargeId": "ch_1001", "amount": order.Total, "auth": auth}, nil
			})
		})
		if err != nil {
			return nil, err
		}
		if err := c.Wait("cool-down", 1); err != nil {
			return nil, err
		}
		if _, err := c.Step("ship", func() (any, error) { return map[string]any{"carrier": "DHL"}, nil }); err != nil {
			return nil, err
		}
		return map[string]any{"orderId": order.OrderID, "status": "shipped", "receipt": receipt}, nil
	})

	n.durableFunction("approval", "Waits for a manager's approval", func(c *durable.Context, in json.RawMessage) (any, error) {
		if _, err := c.Step("prepare-request", func() (any, error) { return map[string]any{"request": json.RawMessage(in)}, nil }); err != nil {
			return nil, err
		}
		_, wait := c.Callback("manager-approval", 600, 0)
		decision, err := wait()
		if err != nil {
			return nil, err
		}
		if _, err := c.Step("apply-decision", func() (any, error) { return map[string]any{"applied": true}, nil }); err != nil {
			return nil, err
		}
		return map[string]any{"decision": decision}, nil
	})

	n.durableFunction("xss-demo", "Description "+xssPayload, func(c *durable.Context, in json.RawMessage) (any, error) {
		echo, err := c.Step(xssPayload, func() (any, error) { return map[string]any{"echo": in, "html": xssPayload}, nil })
		if err != nil {
			return nil, err
		}
		return echo, nil
	})
}
