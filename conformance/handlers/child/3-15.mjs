// 3-15: Child context error without step — the child function throws directly
// without any durable operation; the execution fails with a ChildContextError.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  return await context.runInChildContext("throwing_child", async () => {
    throw new Error("error thrown directly in child context body");
  });
});
