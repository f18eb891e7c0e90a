// 4-19: create callbacks A and B, then wait for B first, then for A; return both.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  const [promiseA] = await context.createCallback(event[0]);
  const [promiseB] = await context.createCallback(event[1]);
  const b = await promiseB;
  const a = await promiseA;
  return { a, b };
});
