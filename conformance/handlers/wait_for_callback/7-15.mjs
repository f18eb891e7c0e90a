// 7-15: waitForCallback named after the input; the callback succeeds with no
// payload and the handler returns the (null/empty) result.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  const result = await context.waitForCallback(event, async (_callbackId) => {});
  return result ?? null;
});
