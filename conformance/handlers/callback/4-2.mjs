// 4-2: create a callback named "approval" and block on its result.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const [result] = await context.createCallback("approval");
  return await result;
});
