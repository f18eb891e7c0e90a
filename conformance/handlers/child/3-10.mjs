// 3-10: Child context with step and wait inside — the step returns the input
// string, then a wait; the child context returns the input string.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  return await context.runInChildContext("child_with_wait", async (child) => {
    const value = await child.step("echo", async () => event);
    await child.wait({ seconds: 1 });
    return value;
  });
});
