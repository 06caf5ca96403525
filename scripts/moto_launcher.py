#!/usr/bin/env python3
"""offload's moto launcher: the local AWS for this project.

It starts the normal moto server after patching the few gaps that make
Terraform hang or drift against it (docs/architecture.md §2), and adds a small
read-only API under /_offload/ that tests use to observe side effects moto
keeps internally:

  GET    /_offload/health  -> {"status": "ok"}
  GET    /_offload/sms     -> every SMS published to a phone number, oldest first
  DELETE /_offload/sms     -> forget them
  POST   /_offload/faults  -> inject a fault into matching AWS calls (below)
  GET    /_offload/faults  -> the faults and how often each fired
  DELETE /_offload/faults  -> remove them all
  DELETE /_offload/faults/ID -> remove one
  GET    /_offload/sqs/oldest?queue=NAME
                           -> {"queue": NAME, "sentTimestamp": ms | null}: the
                              SentTimestamp of the queue's oldest message, in
                              flight or not (what AWS/SQS's
                              ApproximateAgeOfOldestMessage measures; SQS has
                              no way to read it without receiving)

A fault is what real AWS does now and then and moto never does: throttle,
fail with 5xx, or answer late. Tests use it to prove retries, backoff and the
exactly-once guards end to end. POST a JSON object:

  {"service": "dynamodb", "operation": "PutItem", "match": "order-17", "count": 1,
   "error": {"status": 400, "code": "ProvisionedThroughputExceededException", "message": "slow down"}}
  {"service": "sns", "operation": "Publish", "match": "%2B4474", "count": 1, "delay_after_seconds": 8}

service is the SigV4 signing name (dynamodb, sqs, sns, …); operation the API
action; match (optional) a substring of the raw request body, and "also"
(optional) a list of further substrings that must all occur too (e.g. a key
and a status value of one UpdateItem); count how many
matching calls it applies to (default 1; -1 = every one). "error" answers in
the service's protocol without calling moto (after "delay_seconds", if set:
a call that hangs and then fails, so a caller's timeout kills it before any
work is done); "delay_after_seconds" lets moto do the work and then holds the
answer back — the caller times out after the side effect happened, like a
crash between a provider accepting and the caller recording it. With
"after": true next to "error", moto does the work first and the caller gets
the error instead of moto's answer: a write that committed but whose answer
was lost (the SDK retries it, and the retry meets its own write):

  {"service": "dynamodb", "operation": "PutItem", "match": "order-17", "after": true,
   "error": {"status": 500, "code": "InternalServerError"}}

Patches (each is a moto gap, not a product change):
  * SQS RedriveAllowPolicy is accepted and returned (moto drops it, so the
    provider waits 20 minutes for it to appear, then fails).
  * SQS RedrivePolicy / RedriveAllowPolicy are returned as compact JSON, as
    AWS does (moto adds spaces, so every plan shows a whitespace diff).
  * SQS SendMessageBatch keeps each entry's MessageSystemAttributes
    (AWSTraceHeader), as SendMessage does (moto drops them in batches).
  * Lambda LoggingConfig (log format, log group, log levels) is stored and
    returned, as AWS does (moto drops it, so every plan of a function with
    JSON logs or its own log group shows an in-place update).
  * CloudWatch alarms start in INSUFFICIENT_DATA ("Unchecked: Initial alarm
    creation"), as on AWS (moto starts them in OK); PutMetricAlarm on an
    existing alarm keeps its state, as AWS does.
  * Lambda PutFunctionEventInvokeConfig replaces the function's config and
    UpdateFunctionEventInvokeConfig merges into it, as AWS does (moto appends
    and keeps returning the first, so an update is never read back).
  * Lambda KMSKeyArn (the key encrypting a function's environment) is stored
    and returned, as AWS does (moto drops it: every plan shows an update).
  * Lambda ListFunctionEventInvokeConfigs answers LastModified in epoch
    seconds (moto answers an ISO string the SDKs cannot read).

Usage: python3 scripts/moto_launcher.py -H 127.0.0.1 -p 4566
"""

import argparse
from collections.abc import Mapping
import io
import json
import re
import urllib.parse
import uuid
import signal
import sys
import threading
import time
import zlib

from werkzeug.serving import run_simple
from werkzeug.wrappers import Request, Response

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.awslambda import models as lambda_models
from moto.cloudwatch import models as cloudwatch_models
from moto.sns import models as sns_models
from moto.sqs import models as sqs_models
from moto.core.utils import camelcase_to_underscores


def _compact(value):
    """Return a JSON document as AWS stores it: no insignificant whitespace."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, separators=(",", ":"))


class _QueueAttributes(Mapping):
    """A queue's attributes as moto's Queue.attributes returns them, each
    computed when read: RedrivePolicy / RedriveAllowPolicy as compact JSON (as
    AWS returns them), RedriveAllowPolicy only when set, booleans as
    "true"/"false"."""

    def __init__(self, queue):
        self._queue = queue

    def _names(self):
        q = self._queue
        names = [n for n in q.BASE_ATTRIBUTES if n != "RedriveAllowPolicy"]
        if q.fifo_queue:
            names += q.FIFO_ATTRIBUTES
        if q.kms_master_key_id:
            names += q.KMS_ATTRIBUTES
        if getattr(q, "redrive_allow_policy", None):
            names.append("RedriveAllowPolicy")
        return names

    def __iter__(self):
        return iter(self._names())

    def __len__(self):
        return len(self._names())

    def __contains__(self, name):
        return name in self._names()

    def __getitem__(self, name):
        if name not in self._names():
            raise KeyError(name)
        q = self._queue
        if name == "RedrivePolicy":
            return _compact(q.redrive_policy) if q.redrive_policy else None
        if name == "RedriveAllowPolicy":
            return _compact(q.redrive_allow_policy)
        value = getattr(q, camelcase_to_underscores(name))
        if isinstance(value, bool):
            value = str(value).lower()
        return value


def patch_sqs():
    queue = sqs_models.Queue
    # A class-level default lets moto's attribute loop read it on every queue.
    queue.redrive_allow_policy = None
    if "RedriveAllowPolicy" not in queue.BASE_ATTRIBUTES:
        queue.BASE_ATTRIBUTES = list(queue.BASE_ATTRIBUTES) + ["RedriveAllowPolicy"]

    # moto builds every attribute (three of them scan the whole queue) each
    # time any one is read, and SendMessage reads one per message: a send
    # cost grew with the queue's length (a 10-entry batch to a queue holding
    # a few hundred messages took ~140 ms). Each attribute is now computed
    # when it is read; what GetQueueAttributes returns is unchanged.
    queue.attributes = property(_QueueAttributes)

    backend = sqs_models.SQSBackend
    original_batch = backend.send_message_batch

    def send_message_batch(self, queue_name, entries):
        messages, failed = original_batch(self, queue_name, entries)
        by_id = {entry["Id"]: entry for entry in entries.values()}
        for message in messages:
            system = by_id.get(getattr(message, "user_id", None), {}).get("MessageSystemAttributes")
            if system:
                message.system_attributes = system
        return messages, failed

    backend.send_message_batch = send_message_batch


def _logging_config(requested, function_name, current=None):
    """Return LoggingConfig as AWS reports it after a create or an update.

    AWS fills in what the request leaves out: Text format and the
    /aws/lambda/<name> group by default, and INFO levels with JSON logs.
    """
    config = dict(current or {"LogFormat": "Text", "LogGroup": "/aws/lambda/" + function_name})
    config.update(requested or {})
    if config.get("LogFormat") == "JSON":
        config.setdefault("ApplicationLogLevel", "INFO")
        config.setdefault("SystemLogLevel", "INFO")
    else:
        config.pop("ApplicationLogLevel", None)
        config.pop("SystemLogLevel", None)
    return config


def patch_lambda():
    function = lambda_models.LambdaFunction
    original_init = function.__init__
    original_get = function.get_configuration
    original_update = function.update_configuration

    def __init__(self, account_id, spec, *args, **kwargs):
        original_init(self, account_id, spec, *args, **kwargs)
        self.logging_config = _logging_config(spec.get("LoggingConfig"), self.function_name)
        self.kms_key_arn = spec.get("KMSKeyArn") or None

    def get_configuration(self, *args, **kwargs):
        config = original_get(self, *args, **kwargs)
        config["LoggingConfig"] = getattr(self, "logging_config", None) or _logging_config(None, self.function_name)
        if getattr(self, "kms_key_arn", None):
            config["KMSKeyArn"] = self.kms_key_arn
        return config

    def update_configuration(self, config_updates):
        if "LoggingConfig" in config_updates:
            self.logging_config = _logging_config(
                config_updates["LoggingConfig"], self.function_name, getattr(self, "logging_config", None))
        if "KMSKeyArn" in config_updates:
            # "" removes the key (back to Lambda's own), as in AWS.
            self.kms_key_arn = config_updates["KMSKeyArn"] or None
        return original_update(self, config_updates)

    function.__init__ = __init__
    function.get_configuration = get_configuration
    function.update_configuration = update_configuration

    # Put/Update of an event invoke config: patch_event_invoke_config.
    backend = lambda_models.LambdaBackend
    original_list_invoke_configs = backend.list_function_event_invoke_configs

    def list_function_event_invoke_configs(self, function_name):
        # moto's List answers LastModified as an ISO string; the API (and the
        # SDKs) use epoch seconds, as its Get does.
        response = original_list_invoke_configs(self, function_name)
        for config in response.get("FunctionEventInvokeConfigs", []):
            modified = config.get("LastModified")
            if isinstance(modified, str):
                config["LastModified"] = _epoch_seconds(modified)
        return response

    backend.list_function_event_invoke_configs = list_function_event_invoke_configs


def _epoch_seconds(iso):
    """Return an ISO 8601 time (as moto writes it) as epoch seconds."""
    from datetime import datetime, timezone
    text = iso.rstrip("Z")
    if "." in text:
        whole, fraction = text.split(".", 1)
        text = whole + "." + fraction[:6]
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def patch_cloudwatch():
    backend = cloudwatch_models.CloudWatchBackend
    original = backend.put_metric_alarm

    def put_metric_alarm(self, name, *args, **kwargs):
        previous = self.alarms.get(name)
        alarm = original(self, name, *args, **kwargs)
        if previous is not None:
            alarm.state_value = previous.state_value
            alarm.state_reason = previous.state_reason
            alarm.state_reason_data = previous.state_reason_data
            alarm.state_updated_timestamp = previous.state_updated_timestamp
            alarm.history = previous.history
        else:
            alarm.state_value = "INSUFFICIENT_DATA"
        return alarm

    backend.put_metric_alarm = put_metric_alarm


def patch_event_invoke_config():
    backend = lambda_models.LambdaBackend

    def put_function_event_invoke_config(self, function_name, config):
        fn = self.get_function(function_name)
        event_config = lambda_models.EventInvokeConfig(fn.function_arn, fn.last_modified, config)
        fn.event_invoke_config = [event_config]
        return event_config.response()

    def update_function_event_invoke_config(self, function_name, config):
        fn = self.get_function(function_name)
        merged = dict(fn.event_invoke_config[0].config) if fn.event_invoke_config else {}
        merged.update(config)
        return put_function_event_invoke_config(self, function_name, merged)

    backend.put_function_event_invoke_config = put_function_event_invoke_config
    backend.update_function_event_invoke_config = update_function_event_invoke_config


SMS_LOG = []
SMS_LOCK = threading.Lock()


def patch_sns():
    backend = sns_models.SNSBackend
    original = backend.publish

    def publish(self, message, arn=None, phone_number=None, subject=None,
                message_attributes=None, *args, **kwargs):
        message_id = original(self, message, arn, phone_number, subject,
                              message_attributes, *args, **kwargs)
        if phone_number:
            attrs = {}
            for name, value in (message_attributes or {}).items():
                if isinstance(value, dict):
                    attrs[name] = value.get("Value") or value.get("StringValue")
                else:
                    attrs[name] = value
            with SMS_LOCK:
                SMS_LOG.append({
                    "messageId": message_id,
                    "phoneNumber": phone_number,
                    "message": message,
                    "attributes": attrs,
                    "region": self.region_name,
                    "timestamp": time.time(),
                })
        return message_id

    backend.publish = publish


FAULTS = []
FAULTS_LOCK = threading.Lock()
_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")


def _identify(environ, body):
    """Return (service, operation) of an AWS API request, or (None, None)."""
    m = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    service = m.group(1) if m else None
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return service, target.rsplit(".", 1)[-1]
    action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action", [None])[0]
    if action is None:
        action = urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).get("Action", [None])[0]
    return service, action


def _take_fault(service, operation, body):
    """Find, count down and return the first fault matching this call."""
    text = body.decode("utf-8", "replace")
    with FAULTS_LOCK:
        for f in FAULTS:
            if f["remaining"] == 0:
                continue
            if f["service"] != service or f["operation"] != operation:
                continue
            if f.get("match") and f["match"] not in text and f["match"] not in urllib.parse.unquote_plus(text):
                continue
            if any(m not in text and m not in urllib.parse.unquote_plus(text) for m in f.get("also", [])):
                continue
            if f["remaining"] > 0:
                f["remaining"] -= 1
            f["fired"] += 1
            return dict(f)
    return None


def _error_response(environ, fault):
    err = fault["error"]
    status = int(err.get("status", 400))
    code = err.get("code", "InternalFailure")
    message = err.get("message", "injected by the offload launcher")
    if environ.get("HTTP_X_AMZ_TARGET"):
        # JSON protocols (DynamoDB, SQS).
        body = json.dumps({"__type": code, "message": message})
        headers = {"Content-Type": environ.get("CONTENT_TYPE") or "application/x-amz-json-1.0",
                   "x-amzn-query-error": code + ";Sender", "x-amzn-RequestId": str(uuid.uuid4())}
        if fault["service"] == "dynamodb":
            # DynamoDB signs every answer, errors included, with the CRC32 of
            # its body, and the SDK checks it; moto does too.
            headers["x-amz-crc32"] = str(zlib.crc32(body.encode("utf-8")) & 0xFFFFFFFF)
        return Response(body, status=status, headers=headers)
    # Query protocol (SNS, …): an XML ErrorResponse.
    kind = "Sender" if status < 500 else "Receiver"
    body = ("<ErrorResponse><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error>"
            "<RequestId>%s</RequestId></ErrorResponse>") % (kind, code, message, uuid.uuid4())
    return Response(body, status=status, mimetype="text/xml")


def _faults_api(request):
    if request.method == "GET":
        with FAULTS_LOCK:
            return _json([dict(f) for f in FAULTS])
    if request.method == "DELETE":
        with FAULTS_LOCK:
            FAULTS.clear()
        return _json({"deleted": True})
    try:
        f = json.loads(request.get_data(as_text=True))
        fault = {
            "id": str(uuid.uuid4()),
            "service": str(f["service"]),
            "operation": str(f["operation"]),
            "match": f.get("match") or "",
            "also": [str(m) for m in (f.get("also") or [])],
            "remaining": int(f.get("count", 1)),
            "fired": 0,
        }
        if "error" in f:
            fault["error"] = dict(f["error"])
            fault["delay_seconds"] = float(f.get("delay_seconds", 0))
            fault["after"] = bool(f.get("after", False))
        elif "delay_after_seconds" in f:
            fault["delay_after_seconds"] = float(f["delay_after_seconds"])
        else:
            raise ValueError("a fault needs error or delay_after_seconds")
    except (KeyError, TypeError, ValueError) as e:
        return _json({"error": "bad fault: %s" % e}, 400)
    with FAULTS_LOCK:
        FAULTS.append(fault)
    return _json(fault, 201)


class OffloadAPI:
    """WSGI middleware serving /_offload/, injecting faults, and passing
    everything else to moto."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/_offload/"):
            with FAULTS_LOCK:
                armed = any(f["remaining"] != 0 for f in FAULTS)
            if not armed:
                return self.app(environ, start_response)
            return self._with_faults(environ, start_response)
        request = Request(environ)
        if path == "/_offload/faults":
            response = _faults_api(request)
        elif path.startswith("/_offload/faults/") and request.method == "DELETE":
            fid = path[len("/_offload/faults/"):]
            with FAULTS_LOCK:
                before = len(FAULTS)
                FAULTS[:] = [f for f in FAULTS if f["id"] != fid]
                found = len(FAULTS) < before
            response = _json({"deleted": found}, 200 if found else 404)
        elif path == "/_offload/sqs/oldest" and request.method == "GET":
            response = _oldest_message(request.args.get("queue", ""))
        elif path == "/_offload/health":
            response = _json({"status": "ok"})
        elif path == "/_offload/sms" and request.method == "GET":
            with SMS_LOCK:
                response = _json(list(SMS_LOG))
        elif path == "/_offload/sms" and request.method == "DELETE":
            with SMS_LOCK:
                SMS_LOG.clear()
            response = _json({"deleted": True})
        else:
            response = _json({"error": "not found: " + path}, 404)
        return response(environ, start_response)

    def _with_faults(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        service, operation = _identify(environ, body)
        fault = _take_fault(service, operation, body) if service and operation else None
        if fault is None:
            return self.app(environ, start_response)
        if "error" in fault and fault.get("after"):
            # Let moto do the work, then answer the error instead.
            b"".join(self.app(environ, lambda status, headers, exc_info=None: (lambda data: None)))
            if fault.get("delay_seconds"):
                time.sleep(fault["delay_seconds"])
            return _error_response(environ, fault)(environ, start_response)
        if "error" in fault:
            if fault.get("delay_seconds"):
                time.sleep(fault["delay_seconds"])
            return _error_response(environ, fault)(environ, start_response)
        # Let moto do the work, then hold the answer back.
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        chunks = b"".join(self.app(environ, capture))
        time.sleep(fault["delay_after_seconds"])
        start_response(captured["status"], captured["headers"])
        return [chunks]


def _oldest_message(name):
    """The SentTimestamp of a queue's oldest message (local-only metric source)."""
    for regions in sqs_models.sqs_backends.values():
        for backend in regions.values():
            queue = backend.queues.get(name)
            if queue is None:
                continue
            with queue._messages_lock:
                sent = [m.sent_timestamp for m in queue._messages if m.sent_timestamp is not None]
            return _json({"queue": name, "sentTimestamp": min(sent) if sent else None})
    return _json({"message": f"queue {name} not found"}, status=404)


def _json(body, status=200):
    return Response(json.dumps(body), status=status, mimetype="application/json")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=4566)
    args = parser.parse_args(argv)

    patch_sqs()
    patch_sns()
    patch_lambda()
    patch_cloudwatch()
    patch_event_invoke_config()

    def stop(signum, frame):
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, OffloadAPI(app), threaded=True)


if __name__ == "__main__":
    main()
