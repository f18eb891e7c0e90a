// 5-10: invoke a failing target in try/catch, then wait 1 s; on the replay
// after the wait the cached error is re-thrown and caught again.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  let outcome;
  try {
    outcome = await context.invoke("invoke-failing", process.env.TARGET_FUNCTION);
  } catch (err) {
    outcome = { caught: true, error: err.message };
  }
  await context.wait({ seconds: 1 });
  return outcome;
});
