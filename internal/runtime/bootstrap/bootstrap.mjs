// Duro's Node.js bootstrap: the Lambda Runtime API loop for nodejs*
// functions, in plain Node (no dependencies). Duro starts it with the
// function's environment (AWS_LAMBDA_RUNTIME_API, _HANDLER,
// LAMBDA_TASK_ROOT, ...), in the code directory. It loads the handler once,
// then serves invocations one at a time, as Lambda's Node.js runtime does.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const env = process.env;
const api = env.AWS_LAMBDA_RUNTIME_API || '';
const sep = api.lastIndexOf(':');
const apiHost = api.slice(0, sep);
const apiPort = Number(api.slice(sep + 1));
// One kept-alive connection: the long-poll on /next and the answers reuse
// it, as the AWS runtime interface client does.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function call(method, p, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(body);
    if (data) headers['Content-Length'] = data.length;
    const req = http.request(
      { host: apiHost, port: apiPort, method, path: '/2018-06-01/runtime' + p, agent, headers },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

// errorBody turns anything thrown into Lambda's error shape.
function errorBody(err, fallbackType = 'Error') {
  if (err instanceof Error) {
    return {
      errorType: err.name || fallbackType,
      errorMessage: err.message,
      stackTrace: String(err.stack || '').split('\n').slice(1).map((l) => l.trim()).filter(Boolean),
    };
  }
  let message;
  try { message = typeof err === 'string' ? err : JSON.stringify(err); } catch { message = String(err); }
  return { errorType: fallbackType, errorMessage: message, stackTrace: [] };
}

function postError(p, body) {
  return call('POST', p, JSON.stringify(body), {
    'Content-Type': 'application/json',
    'Lambda-Runtime-Function-Error-Type': body.errorType,
  });
}

class InitError extends Error {
  constructor(type, message) {
    super(message);
    this.name = type;
  }
}

// nearestPackageType reads "type" from the package.json closest to file.
function nearestPackageType(file) {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    try {
      return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).type || 'commonjs';
    } catch (e) {
      if (e.code !== 'ENOENT') return 'commonjs';
    }
    if (path.dirname(dir) === dir) return 'commonjs';
  }
}

async function loadModule(file) {
  const esm = file.endsWith('.mjs') || (file.endsWith('.js') && nearestPackageType(file) === 'module');
  if (!esm) {
    try {
      return createRequire(file)(file);
    } catch (e) {
      if (e.code !== 'ERR_REQUIRE_ESM' && e.code !== 'ERR_REQUIRE_ASYNC_MODULE') throw e;
    }
  }
  return import(pathToFileURL(file).href);
}

// loadHandler resolves _HANDLER ("index.handler", "dist/app.handler",
// "app.nested.fn") against the code directory.
async function loadHandler() {
  const root = env.LAMBDA_TASK_ROOT || process.cwd();
  const spec = env._HANDLER || '';
  const slash = spec.lastIndexOf('/');
  const base = spec.slice(slash + 1);
  const dot = base.indexOf('.');
  if (dot <= 0 || dot === base.length - 1) {
    throw new InitError('Runtime.MalformedHandlerName', `Bad handler ${spec}`);
  }
  const moduleName = spec.slice(0, slash + 1) + base.slice(0, dot);
  const handlerPath = base.slice(dot + 1);
  const stem = path.resolve(root, moduleName);
  const file = ['.js', '.mjs', '.cjs', ''].map((ext) => stem + ext)
    .find((f) => { try { return fs.statSync(f).isFile(); } catch { return false; } });
  if (!file) {
    throw new InitError('Runtime.ImportModuleError', `Error: Cannot find module '${moduleName}'`);
  }
  let mod;
  try {
    mod = await loadModule(file);
  } catch (e) {
    if (e instanceof SyntaxError) {
      const err = new InitError('Runtime.UserCodeSyntaxError', `SyntaxError: ${e.message}`);
      err.stack = e.stack;
      throw err;
    }
    const err = new InitError('Runtime.ImportModuleError', `${e && e.name ? e.name : 'Error'}: ${e && e.message}`);
    err.stack = e && e.stack;
    throw err;
  }
  let fn = mod;
  for (const key of handlerPath.split('.')) fn = fn == null ? undefined : fn[key];
  if (typeof fn !== 'function' && mod && mod.default && typeof mod.default === 'object') {
    // A CommonJS module imported as ESM keeps its exports on default.
    fn = mod.default;
    for (const key of handlerPath.split('.')) fn = fn == null ? undefined : fn[key];
  }
  if (typeof fn !== 'function') {
    throw new InitError('Runtime.HandlerNotFound', `${moduleName}.${handlerPath} is undefined or not exported`);
  }
  return fn;
}

function makeContext(id, headers) {
  const deadline = Number(headers['lambda-runtime-deadline-ms']) || Date.now() + 900000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    awsRequestId: id,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    tenantId: headers['lambda-runtime-aws-tenant-id'],
    identity: undefined,
    clientContext: undefined,
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
  };
}

// runHandler supports async handlers, handlers returning a promise, and
// callback-style handlers (handler(event, context, callback)).
function runHandler(fn, event, context) {
  return new Promise((resolve, reject) => {
    const callback = (err, result) => (err ? reject(err) : resolve(result));
    context.done = callback;
    context.succeed = (result) => resolve(result);
    context.fail = (err) => reject(err || new Error('handled'));
    let out;
    try {
      out = fn(event, context, callback);
    } catch (e) {
      reject(e);
      return;
    }
    if (out && typeof out.then === 'function') out.then(resolve, reject);
    else if (fn.length < 3) resolve(out);
  });
}

let currentId = null;

async function fatal(err, type) {
  const body = errorBody(err, type);
  console.error(`${body.errorType}: ${body.errorMessage}`);
  try {
    if (currentId) await postError(`/invocation/${currentId}/error`, body);
    else await postError('/init/error', body);
  } finally {
    process.exit(129);
  }
}
process.on('uncaughtException', (err) => fatal(err, 'Runtime.UncaughtException'));
process.on('unhandledRejection', (reason) => fatal(reason, 'Runtime.UnhandledPromiseRejection'));

async function main() {
  let handler;
  try {
    handler = await loadHandler();
  } catch (e) {
    const body = errorBody(e, 'Runtime.ImportModuleError');
    console.error(`${body.errorType}: ${body.errorMessage}`);
    await postError('/init/error', body);
    process.exit(1);
  }
  for (;;) {
    const next = await call('GET', '/invocation/next');
    if (next.status !== 200) throw new Error(`runtime API /next answered ${next.status}: ${next.body}`);
    const id = next.headers['lambda-runtime-aws-request-id'];
    const trace = next.headers['lambda-runtime-trace-id'];
    if (trace) env._X_AMZN_TRACE_ID = trace;
    else delete env._X_AMZN_TRACE_ID;
    currentId = id;
    let outcome;
    try {
      const event = next.body.length ? JSON.parse(next.body.toString('utf8')) : undefined;
      const result = await runHandler(handler, event, makeContext(id, next.headers));
      outcome = { ok: JSON.stringify(result === undefined ? null : result) };
    } catch (e) {
      outcome = { err: errorBody(e) };
    }
    if (outcome.err) {
      console.error(`Invoke Error: ${outcome.err.errorType}: ${outcome.err.errorMessage}`);
      await postError(`/invocation/${id}/error`, outcome.err);
    } else {
      await call('POST', `/invocation/${id}/response`, outcome.ok, { 'Content-Type': 'application/json' });
    }
    currentId = null;
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
