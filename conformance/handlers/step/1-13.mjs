// 1-13: Default retry strategy — the step fails on its first two attempts and
// succeeds on the third, with no retry configuration (SDK default: 6 attempts,
// 5 s initial delay, x2 backoff, 60 s max, full jitter).
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

const unreliable = async (stepContext) => {
  if (stepContext.attempt < 3) {
    throw new Error(`failure on attempt ${stepContext.attempt}`);
  }
  return `succeeded on attempt ${stepContext.attempt}`;
};

export const handler = withDurableExecution(async (_event, context) => {
  return await context.step(unreliable);
});
