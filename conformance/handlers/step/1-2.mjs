// 1-2: Step with name — a single step given the explicit name "custom_step_name".
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  return await context.step("custom_step_name", async () => `Hello, ${event}!`);
});
