// 7-7: waitForCallback named after the input whose submitter always throws;
// the submitter retry policy allows 2 attempts with a 1 s delay, then the
// operation fails and the execution fails.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  return await context.waitForCallback(
    event,
    async (callbackId) => {
      throw new Error(`submitter failed to register callback ${callbackId}`);
    },
    {
      retryStrategy: (_error, attemptCount) => ({
        shouldRetry: attemptCount < 2,
        delay: { seconds: 1 },
      }),
    },
  );
});
