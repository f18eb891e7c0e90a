// 7-5: waitForCallback named after the input with a 3 s timeout; nobody
// answers, the timeout error is not caught and the execution fails.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  return await context.waitForCallback(event, async (_callbackId) => {}, {
    timeout: { seconds: 3 },
  });
});
