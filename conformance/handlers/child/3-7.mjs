// 3-7: Child context with step retry — the step in the child context fails on
// its first attempt and succeeds on the second (retry strategy on the step),
// returning the input string; the child context returns the step result.
import { withDurableExecution, createRetryStrategy, JitterStrategy } from "@aws/durable-execution-sdk-js";

const retryStrategy = createRetryStrategy({
  maxAttempts: 3,
  initialDelay: { seconds: 1 },
  backoffRate: 1,
  jitter: JitterStrategy.NONE,
});

export const handler = withDurableExecution(async (event, context) => {
  return await context.runInChildContext("retrying_child", async (child) => {
    return await child.step(
      "flaky_step",
      async (stepContext) => {
        if (stepContext.attempt === 1) {
          throw new Error("first attempt fails");
        }
        return event;
      },
      { retryStrategy },
    );
  });
});
