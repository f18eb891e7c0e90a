// 7-14: waitForCallback named after the input with a 3 s timeout, wrapped in
// error handling; on the timeout error return "timed-out-handled".
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  try {
    return await context.waitForCallback(event, async (_callbackId) => {}, {
      timeout: { seconds: 3 },
    });
  } catch (_err) {
    return "timed-out-handled";
  }
});
