// 6-11: Wait-for-condition with custom state serdes — the string state is encoded
// (base64 of its JSON) by a custom serializer when checkpointed and decoded when
// resuming. The check appends "x"; polling continues until the length reaches 2.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

const encodedStringSerdes = {
  serialize: async (value) =>
    value === undefined ? undefined : `b64:${Buffer.from(JSON.stringify(value), "utf8").toString("base64")}`,
  deserialize: async (data) => {
    if (data === undefined) return undefined;
    if (!data.startsWith("b64:")) throw new Error(`unexpected encoded state: ${data}`);
    return JSON.parse(Buffer.from(data.slice(4), "base64").toString("utf8"));
  },
};

export const handler = withDurableExecution(async (_event, context) => {
  return await context.waitForCondition(async (state) => `${state}x`, {
    initialState: "",
    serdes: encodedStringSerdes,
    waitStrategy: (state) =>
      state.length < 2 ? { shouldContinue: true, delay: { seconds: 1 } } : { shouldContinue: false },
  });
});
