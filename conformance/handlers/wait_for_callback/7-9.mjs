// 7-9: two sequential waitForCallback operations, "first" then "second";
// return the second result.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  await context.waitForCallback("first", async (_callbackId) => {});
  return await context.waitForCallback("second", async (_callbackId) => {});
});
