// 1-5: Undefined/null result — a step that returns null.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

const doNothing = async () => null;

export const handler = withDurableExecution(async (_event, context) => {
  return await context.step(doNothing);
});
