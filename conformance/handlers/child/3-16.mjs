// 3-16: Child context returning null — the child function returns null without
// any durable operation.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  return await context.runInChildContext("null_child", async () => null);
});
