// 1-12: Retry exhaustion — the step always fails; the retry strategy allows 4
// attempts in total (1 initial + 3 retries), 1 s apart.
import { withDurableExecution, createRetryStrategy, JitterStrategy } from "@aws/durable-execution-sdk-js";

const retryStrategy = createRetryStrategy({
  maxAttempts: 4,
  initialDelay: { seconds: 1 },
  backoffRate: 1,
  jitter: JitterStrategy.NONE,
});

const alwaysFail = async (stepContext) => {
  throw new Error(`always fails (attempt ${stepContext.attempt})`);
};

export const handler = withDurableExecution(async (_event, context) => {
  return await context.step(alwaysFail, { retryStrategy });
});
