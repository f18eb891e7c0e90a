"""Duro's Python bootstrap: the Lambda Runtime API loop for python3.*
functions, standard library only. Duro starts it with the function's
environment (AWS_LAMBDA_RUNTIME_API, _HANDLER, LAMBDA_TASK_ROOT, ...), in
the code directory. It imports the handler once, then serves invocations
one at a time, as Lambda's Python runtime does."""

import http.client
import importlib
import json
import os
import sys
import time
import traceback

API = os.environ.get("AWS_LAMBDA_RUNTIME_API", "")
HOST, _, PORT = API.rpartition(":")
_conn = None


def call(method, path, body=None, headers=None):
    """One Runtime API request on a kept-alive connection (reopened once if
    the server closed it)."""
    global _conn
    for attempt in (0, 1):
        if _conn is None:
            _conn = http.client.HTTPConnection(HOST, int(PORT))
        try:
            _conn.request(method, "/2018-06-01/runtime" + path, body=body, headers=headers or {})
            resp = _conn.getresponse()
            return resp.status, resp.headers, resp.read()
        except (http.client.HTTPException, OSError):
            _conn.close()
            _conn = None
            if attempt:
                raise


class InitError(Exception):
    def __init__(self, error_type, message):
        super().__init__(message)
        self.error_type = error_type


def error_body(exc, error_type=None):
    tb = traceback.extract_tb(exc.__traceback__)
    return {
        "errorMessage": str(exc),
        "errorType": error_type or getattr(exc, "error_type", None) or type(exc).__name__,
        "stackTrace": [line.rstrip("\n") for line in traceback.format_list(tb)],
    }


def post_error(path, body):
    call("POST", path, json.dumps(body).encode(), {
        "Content-Type": "application/json",
        "Lambda-Runtime-Function-Error-Type": body["errorType"],
    })


def load_handler():
    spec = os.environ.get("_HANDLER", "")
    try:
        module_name, function_name = spec.rsplit(".", 1)
    except ValueError:
        raise InitError("Runtime.MalformedHandlerName",
                        "Bad handler '%s': not enough values to unpack (expected 2, got 1)" % spec)
    module_name = module_name.replace("/", ".")
    root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise InitError("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (module_name, e))
    except SyntaxError as e:
        raise InitError("Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (module_name, e))
    fn = getattr(module, function_name, None)
    if not callable(fn):
        raise InitError("Runtime.HandlerNotFound",
                        "Handler '%s' missing on module '%s'" % (function_name, module_name))
    return fn


class LambdaContext:
    """The context object Lambda's Python runtime passes to handlers."""

    def __init__(self, request_id, headers):
        env = os.environ
        self.aws_request_id = request_id
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.tenant_id = headers.get("Lambda-Runtime-Aws-Tenant-Id")
        self.identity = None
        self.client_context = None
        try:
            self._deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms"))
        except (TypeError, ValueError):
            self._deadline_ms = int(time.time() * 1000) + 900000

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)


def main():
    try:
        handler = load_handler()
    except Exception as e:
        body = error_body(e, getattr(e, "error_type", None) or "Runtime.ImportModuleError")
        print("[ERROR] %s: %s" % (body["errorType"], body["errorMessage"]), file=sys.stderr, flush=True)
        post_error("/init/error", body)
        sys.exit(1)
    while True:
        status, headers, payload = call("GET", "/invocation/next")
        if status != 200:
            raise RuntimeError("runtime API /next answered %d: %r" % (status, payload))
        request_id = headers.get("Lambda-Runtime-Aws-Request-Id")
        trace = headers.get("Lambda-Runtime-Trace-Id")
        if trace:
            os.environ["_X_AMZN_TRACE_ID"] = trace
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        try:
            event = json.loads(payload) if payload else None
            result = handler(event, LambdaContext(request_id, headers))
            try:
                out = json.dumps(result).encode()
            except (TypeError, ValueError) as e:
                raise InitError("Runtime.MarshalError", "Unable to marshal response: %s" % e)
        except Exception as e:
            body = error_body(e)
            print("[ERROR] %s: %s" % (body["errorType"], body["errorMessage"]), file=sys.stderr)
            traceback.print_exc()
            sys.stdout.flush()
            sys.stderr.flush()
            post_error("/invocation/%s/error" % request_id, body)
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        call("POST", "/invocation/%s/response" % request_id, out, {"Content-Type": "application/json"})


if __name__ == "__main__":
    main()
