// 3-18: Child context with step and wait inside, step and wait after — the inner
// step returns the input string, then an inner wait; the child context returns
// the input string. Then an outer step (returning the input) and an outer wait.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  await context.runInChildContext("child_with_wait", async (child) => {
    const value = await child.step("inner_step", async () => event);
    await child.wait({ seconds: 1 });
    return value;
  });
  const outer = await context.step("outer_step", async () => event);
  await context.wait({ seconds: 1 });
  return outer;
});
