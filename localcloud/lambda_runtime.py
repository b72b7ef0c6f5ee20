"""The runtime side of one Lambda execution environment, run inside the sandbox.

`localcloud.sandbox` runs this file's text with `python -I -S -B -c` in an interpreter whose
sys.path is the function's code, its layer and the runtime's SDK, nothing else: so it imports
the standard library only. It plays what Lambda's Python runtime interface client does: import
the handler named by `_HANDLER` once (the init phase), then run one invocation at a time with a
context whose remaining time counts down to the invocation's deadline.

Protocol with the poller: one JSON document per line on two pipes of their own (file
descriptors argv[1], read, and argv[2], written), never on stdout or stderr, which are the
function's log stream (Powertools writes its log lines and metrics there).
    out {"ready": true}                          the handler imported
    out {"init_error": {errorType, errorMessage}} it did not; the process exits
    in  {"id", "event", "deadline_ms", "function_arn"}
    out {"id", "result"} or {"id", "error": {errorType, errorMessage}}
End of input ends the process.
"""

import importlib
import json
import os
import sys
import time
import traceback


class Context:
    """What Lambda's context object offers a Python handler."""

    def __init__(self, request: dict) -> None:
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        self.memory_limit_in_mb = os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.invoked_function_arn = request["function_arn"]
        self.aws_request_id = request["id"]
        self.identity = None
        self.client_context = None
        self._deadline_ms = request["deadline_ms"]  # epoch ms, as Lambda-Runtime-Deadline-Ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _load_handler():
    module, _, name = os.environ["_HANDLER"].rpartition(".")
    try:
        loaded = importlib.import_module(module)
    except Exception as exc:  # the runtime reports any import failure as this error type
        return None, ("Runtime.ImportModuleError", f"Unable to import module '{module}': {exc}")
    handler = getattr(loaded, name, None)
    if handler is None:
        return None, ("Runtime.HandlerNotFound", f"Handler '{name}' missing on module '{module}'")
    return handler, None


def main() -> int:
    requests = os.fdopen(int(sys.argv[1]), "r", encoding="utf-8")
    replies = os.fdopen(int(sys.argv[2]), "w", encoding="utf-8")
    # The log stream is a pipe: line buffering keeps each line's place next to the platform's.
    sys.stdout.reconfigure(line_buffering=True)
    sys.stderr.reconfigure(line_buffering=True)

    def reply(document: dict) -> None:
        replies.write(json.dumps(document) + "\n")
        replies.flush()

    handler, failure = _load_handler()
    if failure is not None:
        kind, message = failure
        print(f"[ERROR] {kind}: {message}", file=sys.stderr)
        reply({"init_error": {"errorType": kind, "errorMessage": message}})
        return 1
    reply({"ready": True})
    for line in requests:
        request = json.loads(line)
        try:
            result = handler(request["event"], Context(request))
            reply({"id": request["id"], "result": result})
        except Exception as exc:  # a function error: logged, and reported to the service
            print(f"[ERROR] {type(exc).__name__}: {exc}\n{traceback.format_exc()}", file=sys.stderr)
            error = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
            reply({"id": request["id"], "error": error})
    return 0


if __name__ == "__main__":
    sys.exit(main())
