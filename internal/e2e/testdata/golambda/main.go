// Command golambda is a provided.al2023 function built with aws-lambda-go,
// used by the function host tests. It speaks the durable invocation
// envelope itself (no durable SDK for Go exists): it returns SUCCEEDED with
// the execution input and what it learned from the Lambda context.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type envelope struct {
	DurableExecutionArn   string
	CheckpointToken       string
	InitialExecutionState struct {
		Operations []struct {
			Id               string
			Type             string
			ExecutionDetails *struct{ InputPayload string }
		}
	}
}

func handle(ctx context.Context, ev envelope) (map[string]any, error) {
	lc, _ := lambdacontext.FromContext(ctx)
	deadline, _ := ctx.Deadline()
	fmt.Printf("go handler %s\n", lc.AwsRequestID)
	if len(ev.InitialExecutionState.Operations) == 0 || ev.InitialExecutionState.Operations[0].ExecutionDetails == nil {
		return nil, fmt.Errorf("not a durable invocation envelope")
	}
	var input any
	if err := json.Unmarshal([]byte(ev.InitialExecutionState.Operations[0].ExecutionDetails.InputPayload), &input); err != nil {
		return nil, err
	}
	result, _ := json.Marshal(map[string]any{
		"input":       input,
		"requestId":   lc.AwsRequestID,
		"functionArn": lc.InvokedFunctionArn,
		"function":    lambdacontext.FunctionName,
		"hasDeadline": !deadline.IsZero(),
		"endpoint":    os.Getenv("AWS_ENDPOINT_URL_LAMBDA"),
	})
	return map[string]any{"Status": "SUCCEEDED", "Result": string(result)}, nil
}

func main() { lambda.Start(handle) }
