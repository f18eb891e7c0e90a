// 4-7: create the callback, run a step, then block on the callback result
// (which fails; the error is not caught).
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  const [result, callbackId] = await context.createCallback(event);
  await context.step("notify", async () => ({ notified: true, callbackId }));
  return await result;
});
