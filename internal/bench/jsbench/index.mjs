// duro bench --client js: the steps scenario written with the official JS
// SDK. BENCH_STEPS sequential steps, each returning a string whose JSON
// encoding is BENCH_PAYLOAD_SIZE bytes (like the lean player's results).
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

const steps = Number(process.env.BENCH_STEPS || 10);
const size = Math.max(Number(process.env.BENCH_PAYLOAD_SIZE || 100) - 2, 0); // the quotes count
let payload = "";
for (let i = 0; i < size; i++) payload += String.fromCharCode(97 + (i % 26));

export const handler = withDurableExecution(async (event, context) => {
  for (let i = 0; i < steps; i++) {
    await context.step(`step-${i}`, async () => payload);
  }
  return "ok";
});
