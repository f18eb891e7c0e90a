// 4-12: block on the callback, then wait 2 s, then return the callback result.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  const [promise] = await context.createCallback(event);
  const result = await promise;
  await context.wait({ seconds: 2 });
  return result;
});
