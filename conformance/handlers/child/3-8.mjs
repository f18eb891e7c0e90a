// 3-8: Child context with step retry exhaustion — the step in the child context
// always fails; with maxAttempts=2 the retries run out and the child context fails.
import { withDurableExecution, createRetryStrategy, JitterStrategy } from "@aws/durable-execution-sdk-js";

const retryStrategy = createRetryStrategy({
  maxAttempts: 2,
  initialDelay: { seconds: 1 },
  backoffRate: 1,
  jitter: JitterStrategy.NONE,
});

export const handler = withDurableExecution(async (_event, context) => {
  return await context.runInChildContext("exhausting_child", async (child) => {
    return await child.step(
      "always_failing_step",
      async (stepContext) => {
        throw new Error(`always fails (attempt ${stepContext.attempt})`);
      },
      { retryStrategy },
    );
  });
});
