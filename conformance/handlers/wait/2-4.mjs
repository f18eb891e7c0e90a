// 2-4: Wait with different duration units — a wait expressed in minutes (1 minute),
// which the SDK converts to 60 seconds.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  await context.wait({ minutes: 1 });
  return "wait completed";
});
