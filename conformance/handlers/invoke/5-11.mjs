// 5-11: run a step, then invoke the target with the step result; return the
// invoke result.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const prepared = await context.step("prepare", async () => ({ orderId: "order-42", amount: 99 }));
  return await context.invoke("invoke-echo", process.env.TARGET_FUNCTION, prepared);
});
