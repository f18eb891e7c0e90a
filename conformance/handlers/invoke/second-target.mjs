// Chained-invoke target (durable) used as the second of two sequential
// invokes (5-14): tags and returns what it receives.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event) => ({ target: "second", received: event ?? null }));
