// 7-10: a 1 s wait, then a top-level step returning fixed data, then one
// waitForCallback named after the input; return the callback result.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  await context.wait({ seconds: 1 });
  await context.step("prepare", async () => ({ ready: true }));
  return await context.waitForCallback(event, async (_callbackId) => {});
});
