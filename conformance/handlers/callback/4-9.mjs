// 4-9: create the callback, wait 5 s, then block on the callback result;
// the callback succeeds during the wait.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  const [result] = await context.createCallback(event);
  await context.wait({ seconds: 5 });
  return await result;
});
