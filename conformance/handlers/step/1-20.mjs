// 1-20: Error caught and handled — a no-retry step fails inside try/catch; the
// handler falls back to a default value and a second step then succeeds.
import { withDurableExecution, retryPresets } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  let value;
  try {
    value = await context.step(
      async () => {
        throw new Error("primary step failed");
      },
      { retryStrategy: retryPresets.noRetry },
    );
  } catch {
    value = "fallback_result";
  }
  return await context.step(async () => value);
});
