// 7-3: one waitForCallback given only an anonymous submitter, no name.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  return await context.waitForCallback(async (_callbackId) => {});
});
