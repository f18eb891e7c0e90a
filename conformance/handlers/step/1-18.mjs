// 1-18: AtMostOncePerRetry with retry — the step logs the input through the step
// context logger each time it runs; on its first attempt it crashes the process.
// The re-invocation sees the step interrupted and schedules a retry; the second
// attempt succeeds.
import { withDurableExecution, StepSemantics } from "@aws/durable-execution-sdk-js";

const retryStrategy = (_error, attemptsMade) =>
  attemptsMade < 3 ? { shouldRetry: true, delay: { seconds: 1 } } : { shouldRetry: false };

export const handler = withDurableExecution(async (event, context) => {
  return await context.step(
    "at_most_once_retry_step",
    async (stepContext) => {
      stepContext.logger.info(`Processing input: ${event}`);
      if (stepContext.attempt === 1) {
        process.exit(1);
      }
      return "succeeded on second attempt";
    },
    { semantics: StepSemantics.AtMostOncePerRetry, retryStrategy },
  );
});
