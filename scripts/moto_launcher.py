#!/usr/bin/env python3
"""offload's moto launcher: the local AWS for this project.

It starts the normal moto server after patching the few gaps that make
Terraform hang or drift against it (see ARCHITECTURE §2), and adds a small
read-only API under /_offload/ that tests use to observe side effects moto
keeps internally:

  GET    /_offload/health  -> {"status": "ok"}
  GET    /_offload/sms     -> every SMS published to a phone number, oldest first
  DELETE /_offload/sms     -> forget them

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

Usage: python3 scripts/moto_launcher.py -H 127.0.0.1 -p 4566
"""

import argparse
import json
import signal
import sys
import threading
import time

from werkzeug.serving import run_simple
from werkzeug.wrappers import Request, Response

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.awslambda import models as lambda_models
from moto.sns import models as sns_models
from moto.sqs import models as sqs_models


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


def patch_sqs():
    queue = sqs_models.Queue
    # A class-level default lets moto's attribute loop read it on every queue.
    queue.redrive_allow_policy = None
    if "RedriveAllowPolicy" not in queue.BASE_ATTRIBUTES:
        queue.BASE_ATTRIBUTES = list(queue.BASE_ATTRIBUTES) + ["RedriveAllowPolicy"]

    original = queue.attributes.fget

    def attributes(self):
        result = original(self)
        if result.get("RedrivePolicy"):
            result["RedrivePolicy"] = _compact(result["RedrivePolicy"])
        if getattr(self, "redrive_allow_policy", None):
            result["RedriveAllowPolicy"] = _compact(self.redrive_allow_policy)
        else:
            result.pop("RedriveAllowPolicy", None)
        return result

    queue.attributes = property(attributes)

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

    def get_configuration(self, *args, **kwargs):
        config = original_get(self, *args, **kwargs)
        config["LoggingConfig"] = getattr(self, "logging_config", None) or _logging_config(None, self.function_name)
        return config

    def update_configuration(self, config_updates):
        if "LoggingConfig" in config_updates:
            self.logging_config = _logging_config(
                config_updates["LoggingConfig"], self.function_name, getattr(self, "logging_config", None))
        return original_update(self, config_updates)

    function.__init__ = __init__
    function.get_configuration = get_configuration
    function.update_configuration = update_configuration


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


class OffloadAPI:
    """WSGI middleware serving /_offload/ and passing everything else to moto."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/_offload/"):
            return self.app(environ, start_response)
        request = Request(environ)
        if path == "/_offload/health":
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

    def stop(signum, frame):
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, OffloadAPI(app), threaded=True)


if __name__ == "__main__":
    main()
