"""Write load for the fault tests: threads create customers with client-chosen ids and
record every answer (id, status, latency, content type, when). Standard library only.

    python3 load.py BASE_URL TOKEN SECONDS THREADS OUT.json

OUT.json holds every request as [id, status, seconds, content_type, started_at]; status 0
means the connection itself failed (the server was gone).
"""

import json
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid


def create(base, token, customer_id):
    body = json.dumps(
        {"id": customer_id, "kind": "person", "legal_name": f"Fault {customer_id[:8]}"}
    ).encode()
    request = urllib.request.Request(
        f"{base}/api/v1/customers",
        data=body,
        method="POST",
        headers={
            "authorization": f"Bearer {token}",
            "content-type": "application/json",
            "idempotency-key": customer_id,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers.get("content-type", "")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("content-type", "")
    except OSError:
        return 0, ""


def main():
    base, token, seconds, threads, out = sys.argv[1:6]
    deadline = time.monotonic() + float(seconds)
    results = []
    lock = threading.Lock()

    def worker():
        while time.monotonic() < deadline:
            customer_id = str(uuid.uuid4())
            started = time.time()
            began = time.monotonic()
            status, content_type = create(base, token, customer_id)
            took = time.monotonic() - began
            with lock:
                results.append([customer_id, status, took, content_type, started])
            if status in (0, 503):
                time.sleep(0.05)

    pool = [threading.Thread(target=worker) for _ in range(int(threads))]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    with open(out, "w") as file:
        json.dump(results, file)


if __name__ == "__main__":
    main()
