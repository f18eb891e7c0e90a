// 4-4: callback named after the input with a 5 s heartbeat timeout; no
// heartbeat arrives, so the service times it out and the execution fails.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  const [result] = await context.createCallback(event, { heartbeatTimeout: { seconds: 5 } });
  return await result;
});
