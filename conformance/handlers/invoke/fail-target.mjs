// Chained-invoke target (durable) that always throws.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

class TargetFailure extends Error {
  constructor(message) {
    super(message);
    this.name = "TargetFailure";
  }
}

export const handler = withDurableExecution(async () => {
  throw new TargetFailure("target function failed on purpose");
});
