// 2-2: Wait with name — a 2-second wait named "custom_wait_name".
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  await context.wait("custom_wait_name", { seconds: 2 });
  return "wait completed";
});
