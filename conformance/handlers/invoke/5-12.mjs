// 5-12: invoke the target, then pass its result to a step that processes
// and returns it.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const invoked = await context.invoke("invoke-echo", process.env.TARGET_FUNCTION);
  return await context.step("process", async () => ({ processed: true, invokeResult: invoked ?? null }));
});
