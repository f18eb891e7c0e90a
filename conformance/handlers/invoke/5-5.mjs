// 5-5: invoke a target that throws; the InvokeError is not caught, so the
// execution fails.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  return await context.invoke("invoke-failing", process.env.TARGET_FUNCTION);
});
