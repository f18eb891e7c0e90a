// Shared helpers for the plugin suite's instrumentation plugins.
//
// Every plugin writes single-line JSON records to plain stdout. Each record
// carries `durableExecutionArn`: the execution ARN the plugin received in its
// invocation-start hook's info and captured, so that the execution-scoped log
// retrieval (CloudWatch filter on durableExecutionArn/executionArn) finds it.

export class RecordingPlugin {
  constructor(pluginName) {
    this.pluginName = pluginName;
    this.executionArn = undefined;
  }

  // captureArn remembers the ARN of the invocation being served. A worker serves
  // one invocation at a time, so this carries no cross-execution state.
  captureArn(info) {
    this.executionArn = info.executionArn;
  }

  log(hook, fields = {}) {
    const record = { plugin: this.pluginName, hook, ...fields, durableExecutionArn: this.executionArn };
    process.stdout.write(JSON.stringify(record) + "\n");
  }
}

export const TERMINAL_OPERATION_STATUSES = new Set(["SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED", "CANCELLED"]);

// isoTimestamp renders an operation timestamp (a Date, epoch seconds or
// milliseconds, or a string) as ISO-8601; undefined when absent.
export function isoTimestamp(value) {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "number") return new Date(value > 1e12 ? value : value * 1000).toISOString();
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) ? String(value) : parsed.toISOString();
}
