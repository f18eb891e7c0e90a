// 2-5: Wait with long duration — a 1-hour wait, which the SDK converts to 3600 seconds.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  await context.wait({ hours: 1 });
  return "wait completed";
});
