// The console's HTTP client: the public AWS API (plain HTTP + JSON; Duro
// does not check signatures) and Duro's read routes. Path labels are
// percent-encoded whole, so that an ARN's "/" stays in one segment.

/** ApiError is an AWS-style error answer. */
export class ApiError extends Error {
  constructor(status, type, message) {
    super(type ? `${type}: ${message}` : message);
    this.status = status;
    this.type = type;
  }
}

const enc = encodeURIComponent;

/** query builds "?k=v&…", skipping empty values; arrays repeat the key. */
function query(params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    for (const x of [v].flat()) if (x !== undefined && x !== null && x !== "") q.append(k, String(x));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

async function request(method, path, { params, body, json } = {}) {
  const init = { method, headers: {} };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers["Content-Type"] = "application/json";
  } else if (body !== undefined) {
    init.body = body;
  }
  const resp = await fetch(path + query(params), init);
  const text = await resp.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!resp.ok) {
    const type = resp.headers.get("x-amzn-ErrorType")?.split(":")[0] ?? data?.__type ?? "";
    const message = data?.message ?? data?.Message ?? (text || resp.statusText);
    throw new ApiError(resp.status, type, message);
  }
  return data;
}

const execPath = (arn) => `/2025-12-01/durable-executions/${enc(arn)}`;

/** listExecutions is Duro's cross-function listing (newest first). */
export const listExecutions = (filter) => request("GET", "/duro/v1/executions", { params: filter });

/** getExecution is GetDurableExecution with the input and result. */
export const getExecution = (arn) => request("GET", execPath(arn), { params: { IncludeExecutionData: "true" } });

/** getOperations returns every operation of an execution (Duro route). */
export const getOperations = async (arn) =>
  (await request("GET", `/duro/v1/executions/${enc(arn)}/operations`)).Operations;

/** getHistory reads the whole history (up to limit events), oldest first. */
export async function getHistory(arn, limit = 10000) {
  const events = [];
  let marker;
  do {
    const page = await request("GET", `${execPath(arn)}/history`, {
      params: { IncludeExecutionData: "true", MaxItems: 1000, Marker: marker },
    });
    events.push(...page.Events);
    marker = page.NextMarker;
  } while (marker && events.length < limit);
  return events;
}

/** stopExecution is StopDurableExecution. */
export const stopExecution = (arn) => request("POST", `${execPath(arn)}/stop`, { json: {} });

/** callbackSuccess is SendDurableExecutionCallbackSuccess; result is the raw body. */
export const callbackSuccess = (id, result) =>
  request("POST", `/2025-12-01/durable-execution-callbacks/${enc(id)}/succeed`, { body: result });

/** callbackFailure is SendDurableExecutionCallbackFailure. */
export const callbackFailure = (id, errorType, errorMessage) =>
  request("POST", `/2025-12-01/durable-execution-callbacks/${enc(id)}/fail`, {
    json: { ErrorType: errorType || undefined, ErrorMessage: errorMessage || undefined },
  });

/** logs reads an execution's log lines after a position (NextToken). */
export const logs = (arn, after) =>
  request("GET", "/duro/v1/logs", { params: { durableExecutionArn: arn, NextToken: after, limit: 1000 } });

/** listFunctions reads every registered function ($LATEST), by name. */
export async function listFunctions() {
  const out = [];
  let marker;
  do {
    const page = await request("GET", "/2015-03-31/functions/", { params: { MaxItems: 50, Marker: marker } });
    out.push(...page.Functions);
    marker = page.NextMarker;
  } while (marker);
  return out;
}

/** getFunction is GetFunction. */
export const getFunction = (name) => request("GET", `/2015-03-31/functions/${enc(name)}`);

/** listVersions is ListVersionsByFunction (first 50). */
export const listVersions = async (name) =>
  (await request("GET", `/2015-03-31/functions/${enc(name)}/versions`, { params: { MaxItems: 50 } })).Versions;
