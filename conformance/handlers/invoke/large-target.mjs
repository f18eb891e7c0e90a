// Chained-invoke target (durable) for large payloads (5-7): processes the
// payload and returns a small summary of what it received.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event) => {
  const data = typeof event?.data === "string" ? event.data : "";
  return {
    receivedBytes: Buffer.byteLength(JSON.stringify(event ?? null), "utf8"),
    dataLength: data.length,
    distinctChars: new Set(data).size,
    checksum: [...data].reduce((sum, c) => (sum + c.charCodeAt(0)) % 1000003, 0),
  };
});
