// 5-6: invoke a target that throws, inside try/catch; return a fallback value.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  try {
    return await context.invoke("invoke-failing", process.env.TARGET_FUNCTION);
  } catch (err) {
    return { fallback: true, error: err.message };
  }
});
