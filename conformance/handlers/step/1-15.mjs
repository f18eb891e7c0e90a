// 1-15: Retry specific exception — the step throws a TransientError on its first
// attempt; the retry strategy retries only TransientError instances.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

class TransientError extends Error {
  constructor(message) {
    super(message);
    this.name = "TransientError";
  }
}

const retryOnTransient = (error, attemptsMade) =>
  error instanceof TransientError && attemptsMade < 3
    ? { shouldRetry: true, delay: { seconds: 1 } }
    : { shouldRetry: false };

export const handler = withDurableExecution(async (_event, context) => {
  return await context.step(
    async (stepContext) => {
      if (stepContext.attempt === 1) {
        throw new TransientError("temporary glitch");
      }
      return "recovered after transient error";
    },
    { retryStrategy: retryOnTransient },
  );
});
