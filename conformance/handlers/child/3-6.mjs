// 3-6: Nested child contexts — an outer child context with a step and an inner
// child context (with its own step); each step returns the input string and each
// context returns the result beneath it.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  return await context.runInChildContext("outer_child", async (outer) => {
    await outer.step("outer_step", async () => event);
    return await outer.runInChildContext("inner_child", async (inner) => {
      return await inner.step("inner_step", async () => event);
    });
  });
});
