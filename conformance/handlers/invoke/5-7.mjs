// 5-7: invoke a target with a large payload, near the size limit that
// applies to a checkpointed operation payload (256 KiB), and return the
// target's result.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

const LIMIT = 256 * 1024;

function largePayload() {
  const pattern = "abcdefghijklmnopqrstuvwxyz0123456789";
  // {"data":"..."} wraps the string in 11 bytes; keep ~1 KiB of headroom.
  const size = LIMIT - 1024;
  return { data: pattern.repeat(Math.ceil(size / pattern.length)).slice(0, size) };
}

export const handler = withDurableExecution(async (_event, context) => {
  return await context.invoke("invoke-large", process.env.TARGET_FUNCTION, largePayload());
});
