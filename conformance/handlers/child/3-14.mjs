// 3-14: Child context with custom serdes — a child context whose serdes uppercases
// the result on serialization; its step returns the input and the child context
// returns the step result, so the checkpointed and returned value is uppercased.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

const uppercaseSerdes = {
  serialize: async (value) => (value === undefined ? undefined : String(value).toUpperCase()),
  deserialize: async (data) => data,
};

export const handler = withDurableExecution(async (event, context) => {
  return await context.runInChildContext(
    "uppercase_child",
    async (child) => {
      return await child.step("echo", async () => event);
    },
    { serdes: uppercaseSerdes },
  );
});
