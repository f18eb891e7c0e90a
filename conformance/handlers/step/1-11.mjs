// 1-11: Step with retry — the step fails on its first attempt and succeeds on the
// second, with a retry strategy configured (1 s delay).
import { withDurableExecution, createRetryStrategy, JitterStrategy } from "@aws/durable-execution-sdk-js";

const retryStrategy = createRetryStrategy({
  maxAttempts: 3,
  initialDelay: { seconds: 1 },
  backoffRate: 1,
  jitter: JitterStrategy.NONE,
});

const unreliable = async (stepContext) => {
  if (stepContext.attempt === 1) {
    throw new Error("transient failure on first attempt");
  }
  return "Operation succeeded";
};

export const handler = withDurableExecution(async (_event, context) => {
  return await context.step(unreliable, { retryStrategy });
});
