// 1-6: Custom serdes (per-step) — the step returns the input string; its serdes
// uppercases every string value when serializing.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

const uppercaseSerdes = {
  serialize: async (value) =>
    value === undefined
      ? undefined
      : JSON.stringify(value, (_key, v) => (typeof v === "string" ? v.toUpperCase() : v)),
  deserialize: async (data) => (data === undefined ? undefined : JSON.parse(data)),
};

const returnInput = (event) => async () => event;

export const handler = withDurableExecution(async (event, context) => {
  return await context.step(returnInput(event), { serdes: uppercaseSerdes });
});
