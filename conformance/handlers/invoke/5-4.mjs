// 5-4: invoke the echo target with null; it returns null, which is returned.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  return await context.invoke("invoke-echo", process.env.TARGET_FUNCTION, null);
});
