// 1-10: Replay re-throws failed step — a no-retry step fails permanently inside
// try/catch, then a 1 s wait. On replay the SDK re-throws the cached error
// without running the step function again.
import { withDurableExecution, retryPresets } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  let caught;
  try {
    await context.step(
      async (stepContext) => {
        stepContext.logger.info("step executed");
        throw new Error("permanent failure");
      },
      { retryStrategy: retryPresets.noRetry },
    );
  } catch (err) {
    caught = err;
  }
  await context.wait({ seconds: 1 });
  return { caught: caught?.message ?? null };
});
