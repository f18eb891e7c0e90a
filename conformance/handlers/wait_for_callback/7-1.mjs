// 7-1: one waitForCallback named after the input; the submitter receives the
// callback id and does nothing durable; return the callback result.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  return await context.waitForCallback(event, async (_callbackId) => {});
});
