// 1-19: Step with error — a single step that always throws, with no retries.
import { withDurableExecution, retryPresets } from "@aws/durable-execution-sdk-js";

const failing = async () => {
  throw new Error("step always fails");
};

export const handler = withDurableExecution(async (_event, context) => {
  return await context.step(failing, { retryStrategy: retryPresets.noRetry });
});
