// 3-1: Child context basic — a child context holding one step that returns the
// input string; the child context returns the step result.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  return await context.runInChildContext("child", async (child) => {
    return await child.step("echo", async () => event);
  });
});
