// 7-8: a child context "wrapper" runs one waitForCallback named after the
// input and returns its result, which the handler returns.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  return await context.runInChildContext("wrapper", async (child) => {
    return await child.waitForCallback(event, async (_callbackId) => {});
  });
});
