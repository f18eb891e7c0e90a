// Duro's Node.js bootstrap: the Lambda Runtime API loop for nodejs*
// functions, in plain Node (no dependencies). Duro starts it with the
// function's environment (AWS_LAMBDA_RUNTIME_API, _HANDLER,
// LAMBDA_TASK_ROOT, ...), in the code directory. It loads the handler once,
// then serves invocations one at a time, as Lambda's Node.js runtime does,
// or up to AWS_LAMBDA_MAX_CONCURRENCY at once for a function on managed
// instances (Lambda's multi-concurrency: concurrent /next requests, one
// handler, console lines tagged with their request id).
//
// It also gives durable functions a lean transport to Duro (see
// LeanDurableClient below): a durable invocation envelope reaches the
// handler wrapped so that @aws/durable-execution-sdk-js uses it instead of
// loading @aws-sdk/client-lambda. DURO_NODE_LEAN_CLIENT=0 turns it off.

import https from 'node:https';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { AsyncLocalStorage } from 'node:async_hooks';
import util from 'node:util';

const env = process.env;
const api = env.AWS_LAMBDA_RUNTIME_API || '';
const sep = api.lastIndexOf(':');
const apiHost = api.slice(0, sep);
const apiPort = Number(api.slice(sep + 1));

// How many invocations this process serves at once (managed instances).
const maxConcurrency = Math.max(1, Math.floor(Number(env.AWS_LAMBDA_MAX_CONCURRENCY) || 1));
// Connections a pool keeps warm: one per concurrent request, and a few more.
const keepConnections = maxConcurrency + 7;

// ---------------------------------------------------------------------------
// A minimal HTTP/1.1 client over kept-alive TCP connections, for the two
// plain-HTTP peers of a worker: the Runtime API and Duro's own API. It
// costs a fraction of node:http per request (no streams, agent or
// per-request emitters), which matters for durable functions: every step
// is a checkpoint round trip. One request at a time per connection; idle
// connections are reused most recently used first. Responses are framed by
// Content-Length, chunked transfer coding, or the end of the connection.

const CRLF2 = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

// headerValue keeps a header value on one line of printable Latin-1, as
// node:http requires.
const headerValue = (v) => String(v).replace(/[^\t\x20-\x7e\xa0-\xff]/g, ' ');

// addHeader adds a "Name: value" line to headers (names lower-cased,
// repeated names joined with ", "); false if the line has no name.
function addHeader(headers, line) {
  const c = line.indexOf(':');
  if (c <= 0) return false;
  const k = line.slice(0, c).trim().toLowerCase();
  const v = line.slice(c + 1).trim();
  headers[k] = k in headers ? headers[k] + ', ' + v : v;
  return true;
}

class HttpConnection {
  constructor(pool) {
    this.pool = pool;
    this.pending = null; // { resolve, reject, timer }
    this.buf = null;
    this.dead = false;
    this.socket = net.connect({ host: pool.host, port: pool.port, noDelay: true });
    this.socket.on('data', (chunk) => this.onData(chunk));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => {
      if (this.pending && this.head && this.head.untilClose) {
        this.finish(this.buf ? this.buf.subarray(this.head.start) : Buffer.alloc(0), true);
        return;
      }
      const err = new Error('socket hang up');
      err.code = 'ECONNRESET';
      this.fail(err);
    });
  }

  send(data, timeoutMs) {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, timer: null };
      this.head = null;
      this.buf = null;
      if (timeoutMs > 0) {
        this.pending.timer = setTimeout(() => {
          const err = new Error(`no answer from ${this.pool.hostHeader} within ${timeoutMs / 1000} s`);
          err.name = 'TimeoutError';
          this.fail(err);
        }, timeoutMs);
      }
      this.socket.write(data);
    });
  }

  fail(err) {
    this.dead = true;
    this.socket.destroy();
    this.pool.drop(this);
    const p = this.pending;
    this.pending = null;
    if (p) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }

  onData(chunk) {
    if (!this.pending) { // nothing asked: the peer is confused
      this.fail(new Error('unexpected data from ' + this.pool.hostHeader));
      return;
    }
    this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    if (!this.head) {
      const end = this.buf.indexOf(CRLF2);
      if (end < 0) return;
      const lines = this.buf.toString('latin1', 0, end).split('\r\n');
      const m = /^HTTP\/1\.(\d) (\d{3})/.exec(lines[0]);
      if (!m) {
        this.fail(new Error('malformed HTTP response from ' + this.pool.hostHeader));
        return;
      }
      const headers = {};
      for (let i = 1; i < lines.length; i++) addHeader(headers, lines[i]); // a malformed line is skipped
      const status = Number(m[2]);
      if (status >= 100 && status < 200) { // interim: skip it
        this.buf = this.buf.subarray(end + 4);
        if (this.buf.length) this.onData(Buffer.alloc(0));
        return;
      }
      const conn = (headers.connection || '').toLowerCase();
      this.head = {
        status, headers, start: end + 4,
        close: conn.includes('close') || (m[1] === '0' && !conn.includes('keep-alive')),
        chunked: /chunked/i.test(headers['transfer-encoding'] || ''),
        length: headers['content-length'] !== undefined ? Number(headers['content-length']) : -1,
      };
      this.head.untilClose = !this.head.chunked && this.head.length < 0;
    }
    const h = this.head;
    if (h.chunked) {
      const body = this.dechunk();
      if (body) this.finish(body, h.close);
    } else if (h.length >= 0) {
      if (this.buf.length - h.start >= h.length) {
        this.finish(this.buf.subarray(h.start, h.start + h.length), h.close || this.buf.length - h.start > h.length);
      }
    }
  }

  // dechunk returns the body once the whole chunked message is buffered.
  dechunk() {
    const parts = [];
    let p = this.head.start;
    for (;;) {
      const eol = this.buf.indexOf(CRLF, p);
      if (eol < 0) return null;
      const size = parseInt(this.buf.toString('latin1', p, eol).split(';')[0].trim(), 16);
      if (!Number.isFinite(size) || size < 0) {
        this.fail(new Error('malformed chunked response from ' + this.pool.hostHeader));
        return null;
      }
      p = eol + 2;
      if (size === 0) {
        // Trailers (ignored) end with an empty line.
        if (this.buf.length >= p + 2 && this.buf[p] === 13 && this.buf[p + 1] === 10) return Buffer.concat(parts);
        return this.buf.indexOf(CRLF2, p - 2) >= 0 ? Buffer.concat(parts) : null;
      }
      if (this.buf.length < p + size + 2) return null;
      parts.push(this.buf.subarray(p, p + size));
      p += size + 2;
    }
  }

  finish(body, close) {
    const p = this.pending;
    const h = this.head;
    this.pending = null;
    this.head = null;
    this.buf = null;
    clearTimeout(p.timer);
    if (close) {
      this.dead = true;
      this.socket.destroy();
      this.pool.drop(this);
    } else {
      this.pool.release(this);
    }
    p.resolve({ status: h.status, headers: h.headers, body });
  }
}

class HttpPool {
  constructor(host, port) {
    this.host = host;
    this.port = port;
    this.hostHeader = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    this.free = [];
  }

  drop(c) {
    const i = this.free.indexOf(c);
    if (i >= 0) this.free.splice(i, 1);
  }

  release(c) {
    if (!c.dead && this.free.length < keepConnections) this.free.push(c);
    else c.socket.destroy();
  }

  // request sends one request; body is a string (UTF-8) or a Buffer.
  request(method, p, headers, body, timeoutMs = 0) {
    let c;
    while ((c = this.free.pop()) && c.dead);
    if (!c) c = new HttpConnection(this);
    let head = `${method} ${p} HTTP/1.1\r\nHost: ${this.hostHeader}\r\n`;
    for (const k in headers) head += `${k}: ${headerValue(headers[k])}\r\n`;
    let data;
    if (body === undefined) {
      data = Buffer.from(head + '\r\n', 'latin1');
    } else {
      const b = typeof body === 'string' ? Buffer.from(body) : body;
      data = Buffer.concat([Buffer.from(`${head}Content-Length: ${b.length}\r\n\r\n`, 'latin1'), b]);
    }
    return c.send(data, timeoutMs);
  }
}

// ---------------------------------------------------------------------------
// Duro's multiplexed protocol on its Unix socket (Go: internal/mux). One
// connection carries every request of this process: each goes out as a
// frame (uint32 length of what follows, uint32 id, "METHOD TARGET\n",
// header lines, "\n", body), the frames of one event-loop turn in one
// write, and each answer comes back as a frame with the same id ("STATUS\n",
// header lines, "\n", body) when its handler finishes, several in one read
// after a group commit.

const MUX_PREFACE = Buffer.from('DURO-MUX/1\n', 'latin1');
const MUX_MAX_FRAME = 80 << 20;

class MuxConnection {
  constructor(pool) {
    this.pool = pool;
    this.pending = new Map(); // id -> { resolve, reject, timer }
    this.buf = null;
    this.dead = false;
    this.corked = false;
    this.socket = net.connect({ path: pool.socketPath });
    this.socket.write(MUX_PREFACE);
    this.socket.on('data', (chunk) => this.onData(chunk));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => {
      const err = new Error('socket hang up');
      err.code = 'ECONNRESET';
      this.fail(err);
    });
  }

  request(method, p, headers, body, timeoutMs) {
    const id = this.pool.nextId;
    this.pool.nextId = id >= 0xffffffff ? 1 : id + 1;
    let head = `${method} ${p}\nHost: ${this.pool.hostHeader}\n`;
    for (const k in headers) head += `${k}: ${headerValue(headers[k])}\n`;
    head += '\n';
    // One buffer per frame: each chunk a corked socket gathers costs a
    // write request of its own.
    const hLen = Buffer.byteLength(head, 'latin1');
    const bLen = body === undefined ? 0 : (typeof body === 'string' ? Buffer.byteLength(body) : body.length);
    const frame = Buffer.allocUnsafe(8 + hLen + bLen);
    frame.writeUInt32BE(4 + hLen + bLen, 0);
    frame.writeUInt32BE(id, 4);
    frame.write(head, 8, 'latin1');
    if (typeof body === 'string') frame.write(body, 8 + hLen, 'utf8');
    else if (bLen) body.copy(frame, 8 + hLen);
    return new Promise((resolve, reject) => {
      const pending = { resolve, reject, timer: null };
      this.pending.set(id, pending);
      if (timeoutMs > 0) {
        pending.timer = setTimeout(() => {
          this.pending.delete(id); // a late answer is dropped
          const err = new Error(`no answer from Duro within ${timeoutMs / 1000} s`);
          err.name = 'TimeoutError';
          reject(err);
        }, timeoutMs);
      }
      if (!this.corked) {
        this.corked = true;
        this.socket.cork();
        process.nextTick(() => {
          this.corked = false;
          this.socket.uncork();
        });
      }
      this.socket.write(frame);
    });
  }

  onData(chunk) {
    this.buf = this.buf && this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let off = 0;
    while (this.buf.length - off >= 8) {
      const n = this.buf.readUInt32BE(off);
      if (n < 4 || n > MUX_MAX_FRAME) {
        this.fail(new Error('malformed frame from Duro'));
        return;
      }
      if (this.buf.length - off - 4 < n) break;
      const id = this.buf.readUInt32BE(off + 4);
      const frame = this.buf.subarray(off + 8, off + 4 + n);
      off += 4 + n;
      const answer = parseMuxAnswer(frame);
      if (!answer) {
        this.fail(new Error('malformed answer from Duro'));
        return;
      }
      this.pool.answered = true;
      leanStats.socketAnswers++;
      const p = this.pending.get(id);
      if (!p) continue; // timed out
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.resolve(answer);
    }
    this.buf = off === this.buf.length ? null : this.buf.subarray(off);
  }

  fail(err) {
    if (this.dead) return;
    if (!this.pool.answered && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')) {
      // Duro's socket is gone (it serves TCP too): TCP from now on, and
      // the requests go again, as after a refused connection.
      this.pool.socketPath = '';
      err.code = 'ECONNREFUSED';
    }
    this.dead = true;
    this.socket.destroy();
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }
}

// parseMuxAnswer reads "STATUS\n", header lines and "\n" (Latin-1), then
// the body; null if malformed.
function parseMuxAnswer(frame) {
  const nl = frame.indexOf(10);
  if (nl < 0) return null;
  const status = Number(frame.toString('latin1', 0, nl));
  if (!Number.isInteger(status) || status < 100 || status > 999) return null;
  const headers = {};
  let p = nl + 1;
  for (;;) {
    const e = frame.indexOf(10, p);
    if (e < 0) return null;
    if (e === p) return { status, headers, body: frame.subarray(e + 1) };
    if (!addHeader(headers, frame.toString('latin1', p, e))) return null;
    p = e + 1;
  }
}

// MuxPool sends over Duro's socket, or over tcp (an HttpPool for the same
// server) once the socket turned out to be gone.
class MuxPool {
  constructor(socketPath, tcp) {
    this.socketPath = socketPath;
    this.tcp = tcp;
    this.hostHeader = tcp.hostHeader;
    this.nextId = 1;
    this.answered = false;
    this.conn = null;
  }

  request(method, p, headers, body, timeoutMs = 0) {
    if (!this.socketPath) return this.tcp.request(method, p, headers, body, timeoutMs);
    if (!this.conn || this.conn.dead) this.conn = new MuxConnection(this);
    return this.conn.request(method, p, headers, body, timeoutMs);
  }
}

// The Runtime API: the long-poll on /next and the answers share one
// kept-alive connection, as the AWS runtime interface client does.
const runtimeAPI = new HttpPool(apiHost.replace(/^\[|\]$/g, ''), apiPort);

function call(method, p, body, headers = {}) {
  return runtimeAPI.request(method, '/2018-06-01/runtime' + p, headers, body);
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

// ---------------------------------------------------------------------------
// The lean durable client.
//
// @aws/durable-execution-sdk-js takes its transport from the invocation
// event when the event is an object whose class is named
// DurableExecutionInvocationInputWithClient and that carries a
// durableExecutionClient: { getExecutionState(params), checkpoint(params) }
// (the SDK checks it by duck typing: toString() tag, constructor name and
// the property; AWS's own test runner injects its client this way). The
// client below speaks Duro's REST API directly over a kept-alive
// connection, with no SigV4 (Duro does not check signatures), and gives
// the SDK exactly what the AWS SDK for JavaScript would: responses with
// epoch-second timestamps turned into Dates, errors named after the
// x-amzn-ErrorType with $metadata.httpStatusCode, standard retries (3
// attempts on throttling, 5xx and network errors, same ClientToken).

// leanStats counts the lean client's requests; handlers (and Duro's
// tests) can read it as globalThis[Symbol.for('duro.leanDurableClient')].
// socket says whether it talks to Duro over its Unix socket (always with
// the multiplexed protocol); socketAnswers counts the answers that came
// that way.
const leanStats = { invocations: 0, checkpoints: 0, states: 0, retries: 0, errors: 0, socketAnswers: 0 };
Object.defineProperty(leanStats, 'socket', { enumerable: true, get: () => !!leanClient?.pool?.socketPath });

function leanEndpoint() {
  const off = String(env.DURO_NODE_LEAN_CLIENT ?? '').trim().toLowerCase();
  if (['0', 'false', 'no', 'off'].includes(off)) return null;
  if (String(env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS).toLowerCase() === 'true') return null;
  const raw = env.AWS_ENDPOINT_URL_LAMBDA || env.AWS_ENDPOINT_URL;
  if (!raw) return null; // real AWS: only the AWS SDK can sign for it
  let url;
  try { url = new URL(raw); } catch { return null; }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  return url;
}

// leanSocket is Duro's Unix socket when the lean client's endpoint is the
// Duro that started this process (DURO_ENDPOINT_URL): the same API, for
// less CPU per request than loopback TCP. An endpoint the function set
// itself goes over TCP.
function leanSocket(url) {
  const sock = env.DURO_ENDPOINT_SOCKET || '';
  const own = env.DURO_ENDPOINT_URL || '';
  if (!sock || !own || url.protocol !== 'http:') return '';
  const raw = env.AWS_ENDPOINT_URL_LAMBDA || env.AWS_ENDPOINT_URL;
  return raw === own ? sock : '';
}

// Every non-unreserved byte escaped, as the AWS SDKs encode URI labels.
const encodeLabel = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

const epochDate = (v) => {
  if (typeof v === 'number') return new Date(Math.round(v * 1000));
  if (typeof v === 'string' && v !== '' && !Number.isNaN(Number(v))) return new Date(Math.round(Number(v) * 1000));
  return v; // absent, or a form the AWS SDK would not turn into a Date either
};

// Operation timestamps are epoch seconds on the wire; the AWS SDK hands
// them to the durable SDK as Dates.
function operationDates(ops) {
  if (!Array.isArray(ops)) return ops;
  for (const op of ops) {
    if (!op || typeof op !== 'object') continue;
    if ('StartTimestamp' in op) op.StartTimestamp = epochDate(op.StartTimestamp);
    if ('EndTimestamp' in op) op.EndTimestamp = epochDate(op.EndTimestamp);
    if (op.StepDetails && 'NextAttemptTimestamp' in op.StepDetails) {
      op.StepDetails.NextAttemptTimestamp = epochDate(op.StepDetails.NextAttemptTimestamp);
    }
    if (op.WaitDetails && 'ScheduledEndTimestamp' in op.WaitDetails) {
      op.WaitDetails.ScheduledEndTimestamp = epochDate(op.WaitDetails.ScheduledEndTimestamp);
    }
  }
  return ops;
}

const RETRYABLE_STATUS = new Set([500, 502, 503, 504]);
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED']);
const MAX_ATTEMPTS = 3;

// serviceError is what the AWS SDK throws for an error response: named
// after the error code, with the body's members, $fault and $metadata.
function serviceError(status, headers, text) {
  let body = {};
  try { body = text ? JSON.parse(text) : {}; } catch { body = {}; }
  if (!body || typeof body !== 'object') body = {};
  const sanitize = (c) => {
    let v = String(c);
    if (v.includes(':')) v = v.split(':')[0];
    if (v.includes('#')) v = v.split('#').pop();
    return v;
  };
  const header = headers['x-amzn-errortype'];
  const name = header ? sanitize(header)
    : body.code !== undefined ? sanitize(body.code)
      : body.__type !== undefined ? sanitize(body.__type) : 'Unknown';
  const message = body.message ?? body.Message ?? name;
  const err = new Error(message);
  for (const [k, v] of Object.entries(body)) {
    if (k !== 'message' && k !== 'Message' && k !== '__type' && k !== 'code') err[k] = v;
  }
  err.name = name;
  err.$fault = status >= 500 ? 'server' : 'client';
  err.$metadata = { httpStatusCode: status, requestId: headers['x-amzn-requestid'] };
  if (status === 429) err.$retryable = { throttling: true };
  const retryAfter = Number(headers['retry-after']);
  if (status === 429 && headers['retry-after'] !== undefined && Number.isFinite(retryAfter)) err.retryAfterSeconds = retryAfter;
  return err;
}

class LeanDurableClient {
  constructor(url) {
    this.tls = url.protocol === 'https:';
    this.host = url.hostname.replace(/^\[|\]$/g, '');
    this.port = url.port ? Number(url.port) : (this.tls ? 443 : 80);
    this.base = url.pathname.replace(/\/+$/, '');
    if (this.tls) this.agent = new https.Agent({ keepAlive: true, maxFreeSockets: 4, scheduling: 'lifo' });
    else {
      const tcp = new HttpPool(this.host, this.port);
      const sock = leanSocket(url);
      this.pool = sock ? new MuxPool(sock, tcp) : tcp;
    }
  }

  // getExecutionState is GetDurableExecutionState.
  async getExecutionState(params) {
    const q = [`CheckpointToken=${encodeURIComponent(params.CheckpointToken ?? '')}`];
    if (params.Marker !== undefined && params.Marker !== null) q.push(`Marker=${encodeURIComponent(params.Marker)}`);
    if (params.MaxItems !== undefined && params.MaxItems !== null) q.push(`MaxItems=${encodeURIComponent(params.MaxItems)}`);
    leanStats.states++;
    const out = await this.send('GET', `/2025-12-01/durable-executions/${encodeLabel(params.DurableExecutionArn)}/state?${q.join('&')}`);
    operationDates(out.Operations);
    return out;
  }

  // checkpoint is CheckpointDurableExecution. Like the AWS SDK, it fills in
  // a ClientToken, so that a retried request is recognised as a repeat.
  async checkpoint(params) {
    const body = JSON.stringify({
      CheckpointToken: params.CheckpointToken,
      ClientToken: params.ClientToken ?? randomUUID(),
      Updates: params.Updates,
    });
    leanStats.checkpoints++;
    const out = await this.send('POST', `/2025-12-01/durable-executions/${encodeLabel(params.DurableExecutionArn)}/checkpoint`, body);
    if (out.NewExecutionState) operationDates(out.NewExecutionState.Operations);
    return out;
  }

  async send(method, p, body) {
    let totalRetryDelay = 0;
    for (let attempt = 1; ; attempt++) {
      let err;
      try {
        const res = await this.request(method, p, body);
        const text = res.body.toString('utf8');
        if (res.status >= 200 && res.status < 300) {
          const out = text ? JSON.parse(text) : {};
          out.$metadata = { httpStatusCode: res.status, requestId: res.headers['x-amzn-requestid'], attempts: attempt, totalRetryDelay };
          return out;
        }
        err = serviceError(res.status, res.headers, text);
      } catch (e) {
        err = e;
      }
      const status = err.$metadata?.httpStatusCode;
      const throttled = status === 429 || err.name === 'TooManyRequestsException' || err.name === 'ThrottlingException';
      const retryable = throttled || RETRYABLE_STATUS.has(status) ||
        (status === undefined && (TRANSIENT_CODES.has(err.code) || err.name === 'TimeoutError' || /socket hang up/i.test(err.message)));
      if (!retryable || attempt >= MAX_ATTEMPTS) {
        leanStats.errors++;
        err.$metadata = { ...(err.$metadata || {}), attempts: attempt, totalRetryDelay };
        throw err;
      }
      // Full jitter, as the AWS SDK's standard retry strategy.
      const delay = Math.floor(Math.random() * Math.min(20000, (throttled ? 500 : 100) * 2 ** (attempt - 1)));
      totalRetryDelay += delay;
      leanStats.retries++;
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  // request sends one request and resolves with { status, headers, body }.
  // The timeout is the durable SDK's for its own AWS client.
  request(method, p, body) {
    const headers = { 'User-Agent': 'duro-node-bootstrap aws-durable-execution-sdk-js' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (!this.tls) return this.pool.request(method, this.base + p, headers, body, 55000);
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(body);
      if (data) headers['Content-Length'] = data.length;
      const req = https.request({
        host: this.host, port: this.port, method, path: this.base + p, agent: this.agent, headers, timeout: 50000,
      }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('timeout', () => {
        const e = new Error(`${method} ${p}: no answer within 50 s`);
        e.name = 'TimeoutError';
        req.destroy(e);
      });
      req.on('error', reject);
      if (data) req.write(data);
      req.end();
    });
  }
}

// The SDK recognises this class by its name and its toString tag. The
// client is not enumerable, so that handlers that look at the event itself
// (JSON.stringify, Object.keys) see the envelope and nothing else.
class DurableExecutionInvocationInputWithClient {
  constructor(event, client) {
    Object.assign(this, event);
    Object.defineProperty(this, 'durableExecutionClient', { value: client, writable: true, configurable: true, enumerable: false });
  }

  get [Symbol.toStringTag]() {
    return 'DurableExecutionInvocationInputWithClient';
  }
}

let leanClient; // one per process: its agent keeps the connections warm
const leanURL = leanEndpoint();
if (leanURL) globalThis[Symbol.for('duro.leanDurableClient')] = leanStats;

// withLeanClient wraps a durable invocation envelope; anything else is
// passed through untouched.
function withLeanClient(event) {
  if (!leanURL || !event || typeof event !== 'object' || Array.isArray(event) ||
      typeof event.DurableExecutionArn !== 'string' || typeof event.CheckpointToken !== 'string' ||
      !event.DurableExecutionArn || !event.CheckpointToken) {
    return event;
  }
  leanClient ??= new LeanDurableClient(leanURL);
  leanStats.invocations++;
  return new DurableExecutionInvocationInputWithClient(event, leanClient);
}

// The invocations in progress (one, unless on managed instances).
const inFlight = new Set();
let initDone = false;

async function fatal(err, type) {
  const body = errorBody(err, type);
  console.error(`${body.errorType}: ${body.errorMessage}`);
  try {
    if (!initDone) await postError('/init/error', body);
    else await Promise.allSettled([...inFlight].map((id) => postError(`/invocation/${id}/error`, body)));
  } finally {
    process.exit(129);
  }
}

// With several invocations at once, a line of output can no longer be
// told apart by when it was written: console lines carry their request id
// instead, in the text format of Lambda's Node.js runtime
// ("<time>\t<request id>\t<LEVEL>\t<message>", the message's own line
// breaks written as \r so that it stays one line). Duro attributes the
// lines by that id.
const requestIds = maxConcurrency > 1 ? new AsyncLocalStorage() : null;
if (requestIds) {
  const line = (level, text) =>
    `${new Date().toISOString()}\t${requestIds.getStore() ?? 'undefined'}\t${level}\t${text.replace(/\r?\n/g, '\r')}\n`;
  const methods = [
    ['log', 'INFO', process.stdout], ['info', 'INFO', process.stdout], ['debug', 'DEBUG', process.stdout],
    ['warn', 'WARN', process.stderr], ['error', 'ERROR', process.stderr],
  ];
  for (const [name, level, stream] of methods) {
    console[name] = (...args) => { stream.write(line(level, util.format(...args))); };
  }
  console.trace = function trace(...args) {
    const e = { name: 'Trace', message: util.format(...args) };
    Error.captureStackTrace(e, trace);
    process.stderr.write(line('TRACE', e.stack));
  };
}
process.on('uncaughtException', (err) => fatal(err, 'Runtime.UncaughtException'));

// DURO_NODE_CPU_PROF_DIR=DIR profiles the worker (Node does not allow
// --cpu-prof in NODE_OPTIONS): the V8 CPU profile of its whole life is
// written to DIR/CPU.<time>.<pid>.cpuprofile when Duro stops it (SIGTERM),
// for Chrome DevTools or speedscope.
if (env.DURO_NODE_CPU_PROF_DIR) {
  const dir = env.DURO_NODE_CPU_PROF_DIR;
  const { Session } = await import('node:inspector');
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  process.on('SIGTERM', () => {
    session.post('Profiler.stop', (err, res) => {
      try {
        if (!err) {
          fs.mkdirSync(dir, { recursive: true });
          fs.writeFileSync(path.join(dir, `CPU.${Date.now()}.${process.pid}.cpuprofile`), JSON.stringify(res.profile));
        }
      } finally {
        process.exit(0);
      }
    });
  });
}
process.on('unhandledRejection', (reason) => fatal(reason, 'Runtime.UnhandledPromiseRejection'));

// serve runs invocations one after the other, for as long as the process
// lives. A managed-instances worker runs maxConcurrency of these loops.
async function serve(handler) {
  for (;;) {
    const next = await call('GET', '/invocation/next');
    if (next.status !== 200) throw new Error(`runtime API /next answered ${next.status}: ${next.body}`);
    const id = next.headers['lambda-runtime-aws-request-id'];
    if (!requestIds) {
      // One invocation at a time: the trace id can live in the environment.
      const trace = next.headers['lambda-runtime-trace-id'];
      if (trace) env._X_AMZN_TRACE_ID = trace;
      else delete env._X_AMZN_TRACE_ID;
    }
    inFlight.add(id);
    let outcome;
    try {
      const event = withLeanClient(next.body.length ? JSON.parse(next.body.toString('utf8')) : undefined);
      const context = makeContext(id, next.headers);
      const result = await (requestIds ? requestIds.run(id, runHandler, handler, event, context) : runHandler(handler, event, context));
      outcome = { ok: JSON.stringify(result === undefined ? null : result) };
    } catch (e) {
      outcome = { err: errorBody(e) };
    }
    if (outcome.err) {
      const report = `Invoke Error: ${outcome.err.errorType}: ${outcome.err.errorMessage}`;
      if (requestIds) requestIds.run(id, () => console.error(report));
      else console.error(report);
      await postError(`/invocation/${id}/error`, outcome.err);
    } else {
      await call('POST', `/invocation/${id}/response`, outcome.ok, { 'Content-Type': 'application/json' });
    }
    inFlight.delete(id);
  }
}

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
  initDone = true;
  await Promise.all(Array.from({ length: maxConcurrency }, () => serve(handler)));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
