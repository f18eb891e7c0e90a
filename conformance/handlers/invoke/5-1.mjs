// 5-1: invoke the echo target with the event input and return its result.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  return await context.invoke("invoke-echo", process.env.TARGET_FUNCTION, event);
});
