// 2-1: Wait basic — a single 2-second wait.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  await context.wait({ seconds: 2 });
  return "wait completed";
});
