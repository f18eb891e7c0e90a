// 5-14: invoke two target functions sequentially; return both results.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const first = await context.invoke("invoke-first", process.env.TARGET_FUNCTION_1);
  const second = await context.invoke("invoke-second", process.env.TARGET_FUNCTION_2);
  return { first, second };
});
