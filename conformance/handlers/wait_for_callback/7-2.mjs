// 7-2: one waitForCallback with the static name "approval".
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  return await context.waitForCallback("approval", async (_callbackId) => {});
});
