// 4-17: create callback A, wait for it, then create callback B, wait for it;
// return both results.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  const [promiseA] = await context.createCallback(event[0]);
  const a = await promiseA;
  const [promiseB] = await context.createCallback(event[1]);
  const b = await promiseB;
  return { a, b };
});
