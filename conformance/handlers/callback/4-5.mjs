// 4-5: callback named after the input with a 10 s heartbeat timeout; a
// heartbeat keeps it alive until the success arrives.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  const [result] = await context.createCallback(event, { heartbeatTimeout: { seconds: 10 } });
  return await result;
});
