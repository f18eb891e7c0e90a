// 3-9: Child context replay — a child context (one step returning the input),
// followed by a wait. On replay the child context returns its cached result.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  const result = await context.runInChildContext("child", async (child) => {
    return await child.step("echo", async () => event);
  });
  await context.wait({ seconds: 1 });
  return result;
});
