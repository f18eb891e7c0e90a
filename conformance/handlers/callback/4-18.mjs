// 4-18: create callbacks A and B, then wait for A, then for B; return both.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  const [promiseA] = await context.createCallback(event[0]);
  const [promiseB] = await context.createCallback(event[1]);
  const a = await promiseA;
  const b = await promiseB;
  return { a, b };
});
