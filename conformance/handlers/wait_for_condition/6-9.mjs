// 6-9: Wait-for-condition with a complex object state {status, attempts}: each
// check increments attempts and sets status DONE once attempts reaches 2; polling
// continues while status is PENDING.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  return await context.waitForCondition(
    async (state) => {
      const attempts = state.attempts + 1;
      return { status: attempts >= 2 ? "DONE" : "PENDING", attempts };
    },
    {
      initialState: { status: "PENDING", attempts: 0 },
      waitStrategy: (state) =>
        state.status === "PENDING"
          ? { shouldContinue: true, delay: { seconds: 1 } }
          : { shouldContinue: false },
    },
  );
});
