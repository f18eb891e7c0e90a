// 1-17: AtMostOncePerRetry, interrupted, no retry — the step logs the input
// through the step context logger and then crashes the process. On the
// re-invocation the SDK finds the step STARTED, raises StepInterruptedError and,
// with no retries configured, fails the step permanently.
import { withDurableExecution, StepSemantics } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  return await context.step(
    "at_most_once_flaky_step",
    async (stepContext) => {
      stepContext.logger.info(`Processing input: ${event}`);
      process.exit(1);
    },
    {
      semantics: StepSemantics.AtMostOncePerRetry,
      retryStrategy: () => ({ shouldRetry: false }),
    },
  );
});
