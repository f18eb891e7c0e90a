// 1-16: Retry specific exception (non-retryable) — the step throws a
// TransientError; the retry strategy does not retry TransientError, so the step
// fails permanently and the execution fails.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

class TransientError extends Error {
  constructor(message) {
    super(message);
    this.name = "TransientError";
  }
}

const noRetryOnTransientError = (error, attemptsMade) =>
  error instanceof TransientError
    ? { shouldRetry: false }
    : { shouldRetry: attemptsMade < 3, delay: { seconds: 1 } };

export const handler = withDurableExecution(async (_event, context) => {
  return await context.step(
    async () => {
      throw new TransientError("transient error that must not be retried");
    },
    { retryStrategy: noRetryOnTransientError },
  );
});
