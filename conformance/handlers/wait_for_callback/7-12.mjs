// 7-12: waitForCallback named after the input with a 5 s heartbeat timeout;
// no heartbeat arrives, the error is not caught and the execution fails.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  return await context.waitForCallback(event, async (_callbackId) => {}, {
    heartbeatTimeout: { seconds: 5 },
  });
});
