"""Webhooks as a receiver sees them, verified with the Standard Webhooks reference library
(`standardwebhooks` from PyPI): an event committed just before the server is killed with
SIGKILL is delivered by the next server on the same database, signed so the library accepts
it; after a rotation both the new and the old secret verify; a tampered body does not.

    python check.py CREDO_BINARY DATABASE_URL
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

PASSWORD = "webhooks-root-password"
received = []
lock = threading.Lock()


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"])).decode()
        headers = {k.lower(): v for k, v in self.headers.items()}
        with lock:
            received.append((headers, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(binary, database_url, senders, log):
    port = free_port()
    env = dict(
        os.environ,
        CREDO_DATABASE_URL=database_url,
        CREDO_BIND=f"127.0.0.1:{port}",
        CREDO_ADMIN_PASSWORD=PASSWORD,
        CREDO_WEBHOOKS_ALLOW_PRIVATE="1",
        CREDO_WEBHOOK_SENDERS=str(senders),
        CREDO_WEBHOOK_POLL_MS="50",
        CREDO_LOG="error",
    )
    process = subprocess.Popen([binary, "serve"], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{base}/ready", timeout=1)
            return process, base
        except OSError:
            time.sleep(0.1)
    process.kill()
    sys.exit("the server did not start")


def call(base, method, path, token=None, body=None):
    request = urllib.request.Request(
        f"{base}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    if token:
        request.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read() or b"null")


def wait_for(event_type, predicate=lambda data: True):
    deadline = time.time() + 30
    while time.time() < deadline:
        with lock:
            for headers, body in received:
                event = json.loads(body)
                if event["type"] == event_type and predicate(event["data"]):
                    return headers, body
        time.sleep(0.05)
    sys.exit(f"no {event_type} arrived: {received}")


def main():
    binary, database_url = sys.argv[1], sys.argv[2]
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook_url = f"http://127.0.0.1:{receiver.server_address[1]}/hooks"
    log = open(os.environ.get("CHECK_LOG", os.devnull), "ab")

    # An instance that sends nothing: the event can only reach the receiver from the outbox.
    first, base = start_server(binary, database_url, 0, log)
    _, tokens = call(base, "POST", "/api/v1/auth/login", body={"username": "admin", "password": PASSWORD})
    token = tokens["access_token"]
    _, endpoint = call(base, "POST", "/api/v1/webhooks", token, {"url": hook_url, "event_types": ["*"]})
    old_secret = endpoint["secret"]
    status, customer = call(
        base, "POST", "/api/v1/customers", token, {"kind": "organization", "legal_name": "Kill Nine Co"}
    )
    assert status == 201, customer
    first.send_signal(signal.SIGKILL)
    first.wait()

    second, base = start_server(binary, database_url, 2, log)
    try:
        headers, body = wait_for("customer.created", lambda d: d["id"] == customer["id"])
        Webhook(old_secret).verify(body, headers)
        print(f"kill -9 after commit: customer.created {headers['webhook-id']} delivered by the "
              "next instance, signature verified by standardwebhooks")

        _, tokens = call(base, "POST", "/api/v1/auth/login", body={"username": "admin", "password": PASSWORD})
        token = tokens["access_token"]
        _, rotated = call(base, "POST", f"/api/v1/webhooks/{endpoint['id']}/rotate-secret", token, {})
        new_secret = rotated["secret"]
        assert new_secret != old_secret
        _, queued = call(base, "POST", f"/api/v1/webhooks/{endpoint['id']}/test", token, {})
        headers, body = wait_for("webhook.test")
        assert headers["webhook-id"] == queued["event_id"], (headers, queued)
        Webhook(new_secret).verify(body, headers)
        Webhook(old_secret).verify(body, headers)
        try:
            Webhook(new_secret).verify(body + " ", headers)
            sys.exit("a tampered body verified")
        except WebhookVerificationError:
            pass
        print("rotation: the new and the old secret both verify; a tampered body does not")
    finally:
        second.kill()
        second.wait()
        receiver.shutdown()


if __name__ == "__main__":
    main()
