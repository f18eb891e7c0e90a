// duro bench --client js: the load generator's scenarios written with the
// official JS SDK. BENCH_SCENARIO is steps (BENCH_STEPS sequential steps),
// waits (a step and a wait of BENCH_WAIT_SECONDS, BENCH_STEPS times),
// callbacks (a step and a callback, BENCH_STEPS times: the submitter posts
// the callback's id to BENCH_CALLBACK_URL, where the load generator
// completes it through the API) or fanout (BENCH_BRANCHES parallel branches
// of BENCH_STEPS steps). Each step returns a string whose JSON encoding is
// BENCH_PAYLOAD_SIZE bytes (like the lean player's results).
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

const scenario = process.env.BENCH_SCENARIO || "steps";
const steps = Number(process.env.BENCH_STEPS || 10);
const waitSeconds = Number(process.env.BENCH_WAIT_SECONDS || 1);
const branches = Number(process.env.BENCH_BRANCHES || 4);
const callbackURL = process.env.BENCH_CALLBACK_URL;
const size = Math.max(Number(process.env.BENCH_PAYLOAD_SIZE || 100) - 2, 0); // the quotes count
let payload = "";
for (let i = 0; i < size; i++) payload += String.fromCharCode(97 + (i % 26));

export const handler = withDurableExecution(async (event, context) => {
  switch (scenario) {
    case "waits":
      for (let i = 0; i < steps; i++) {
        await context.step(`step-${i}`, async () => payload);
        await context.wait(`wait-${i}`, { seconds: waitSeconds });
      }
      break;
    case "callbacks":
      for (let i = 0; i < steps; i++) {
        await context.step(`step-${i}`, async () => payload);
        await context.waitForCallback(
          `callback-${i}`,
          async (callbackId) => {
            const res = await fetch(callbackURL, { method: "POST", body: callbackId });
            if (!res.ok) throw new Error(`post callback id: HTTP ${res.status}`);
          },
          { timeout: { hours: 1 } },
        );
      }
      break;
    case "fanout":
      await context.parallel(
        "fanout",
        Array.from({ length: branches }, (_, b) => async (ctx) => {
          for (let i = 0; i < steps; i++) {
            await ctx.step(`branch-${b}-step-${i}`, async () => payload);
          }
        }),
      );
      break;
    default:
      for (let i = 0; i < steps; i++) {
        await context.step(`step-${i}`, async () => payload);
      }
  }
  return "ok";
});
