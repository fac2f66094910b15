#!/usr/bin/env python3
"""A Web4 Cloud API client using only Python's standard library.

Finds (or registers) a service, waits until the mesh can route to it, invokes it with an
Idempotency-Key (and retries with the same key to see the stored answer replayed), then reads
the account's usage.

    WEB4_URL=http://127.0.0.1:3000 WEB4_API_KEY=w4k_... WEB4_UPSTREAM=http://127.0.0.1:9000 \
        python3 examples/python/client.py

Optional: WEB4_SERVICE (slug, default example-echo), WEB4_HEALTH_PATH (default /).
The API key needs the read, write and invoke scopes.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

TRIES = 4
HEALTHY_WITHIN = 60  # seconds


class ApiError(Exception):
    """The platform's one error shape: {"error": {"code", "message", "details"?}}."""

    def __init__(self, status, body):
        error = body.get("error", {}) if isinstance(body, dict) else {}
        self.status = status
        self.code = error.get("code", "?")
        details = f" {json.dumps(error['details'])}" if "details" in error else ""
        super().__init__(f"HTTP {status} {self.code}: {error.get('message', '(no error body)')}{details}")


class Api:
    def __init__(self, base_url, api_key):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key

    def request(self, method, path, body=None, headers=None):
        """Sends a request; returns (status, headers, body bytes). Waits out Retry-After on a
        429 or 503 that carries it (rate limits, idempotency_in_progress, backpressure)."""
        data = None if body is None else json.dumps(body).encode()
        all_headers = {"Authorization": f"Bearer {self.api_key}", **(headers or {})}
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        for attempt in range(1, TRIES + 1):
            req = urllib.request.Request(self.base_url + path, data=data, method=method, headers=all_headers)
            try:
                with urllib.request.urlopen(req, timeout=70) as response:
                    return response.status, response.headers, response.read()
            except urllib.error.HTTPError as failure:
                status, answer_headers, answer = failure.code, failure.headers, failure.read()
                wait = answer_headers.get("Retry-After")
                if status in (429, 503) and wait and wait.isdigit() and attempt < TRIES:
                    time.sleep(int(wait))
                    continue
                return status, answer_headers, answer

    def json(self, method, path, body=None):
        """A JSON answer of a 2xx, or ApiError."""
        status, _, answer = self.request(method, path, body)
        parsed = json.loads(answer) if answer else None
        if not 200 <= status < 300:
            raise ApiError(status, parsed)
        return parsed


def find_service(api, slug):
    """The account's service with this slug, walking every page of GET /api/v1/services."""
    cursor = None
    while True:
        query = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = api.json("GET", "/api/v1/services?" + urllib.parse.urlencode(query))
        for service in page["items"]:
            if service["slug"] == slug:
                return service
        cursor = page.get("next_cursor")
        if not cursor:
            return None


def register(api, slug, upstream, health_path):
    return api.json("POST", "/api/v1/services", {
        "slug": slug,
        "name": "Example echo",
        "replicas": 1,
        "http": {"upstream_url": upstream, "timeout_ms": 5000},
        "health_check": {"path": health_path, "interval_ms": 5000, "timeout_ms": 2000},
    })


def wait_until_healthy(api, service_id):
    """Polls discovery until it offers a healthy instance; returns how many it offers."""
    deadline = time.monotonic() + HEALTHY_WITHIN
    while True:
        discovery = api.json("GET", f"/api/v1/services/{service_id}/discovery")
        if discovery["instances"]:
            return len(discovery["instances"])
        if time.monotonic() > deadline:
            raise RuntimeError(f"no healthy instance of {service_id} after {HEALTHY_WITHIN} s: is the upstream up?")
        time.sleep(0.25)


def invoke(api, service_id, idempotency_key):
    """POSTs through the mesh; returns the platform's headers of the answer."""
    status, headers, answer = api.request(
        "POST",
        f"/api/v1/invoke/{service_id}/hello?from=python-example",
        {"hello": "web4"},
        {"Idempotency-Key": idempotency_key},
    )
    if headers.get("x-web4-invoke-id") is None:  # the platform refused the call itself
        raise ApiError(status, json.loads(answer or b"{}"))
    route = headers.get("x-web4-route", "")
    return {
        "status": status,
        "invoke_id": headers["x-web4-invoke-id"],
        "route": [node for node in route.split(",") if node],
        "replayed": headers.get("Idempotent-Replayed") == "true",
    }


def usage_calls(api, service_id):
    """Calls of the service in GET /api/v1/usage (the last 30 days, today included)."""
    usage = api.json("GET", "/api/v1/usage")
    return sum(day["calls"] for day in usage["days"] if day["service_id"] == service_id)


def main():
    env = os.environ
    for name in ("WEB4_API_KEY", "WEB4_UPSTREAM"):
        if not env.get(name):
            sys.exit(f"set {name}")
    api = Api(env.get("WEB4_URL") or "http://127.0.0.1:3000", env["WEB4_API_KEY"])
    slug = env.get("WEB4_SERVICE") or "example-echo"

    service = find_service(api, slug)
    registered = service is None
    if registered:
        service = register(api, slug, env["WEB4_UPSTREAM"], env.get("WEB4_HEALTH_PATH") or "/")
    service_id = service["id"]
    instances = wait_until_healthy(api, service_id)
    print(f"service {slug} ({service_id}) {'registered' if registered else 'found'}; {instances} healthy instance(s)")

    # One key per logical call: a retry sends the same key, so the call runs (and is billed) once.
    key = str(uuid.uuid4())
    first = invoke(api, service_id, key)
    print(f"invoke: HTTP {first['status']}, invoke id {first['invoke_id']}")
    print(f"route: {' -> '.join(first['route'])}")
    retry = invoke(api, service_id, key)
    print(f"retry with the same Idempotency-Key: replayed {str(retry['replayed']).lower()}, invoke id {retry['invoke_id']}")

    calls = usage_calls(api, service_id)
    print(f"usage: {calls} call(s) of {slug} in the last 30 days")
    summary = {
        "service_id": service_id, "registered": registered, "status": first["status"],
        "invoke_id": first["invoke_id"], "route": first["route"], "replayed": retry["replayed"],
        "replay_invoke_id": retry["invoke_id"], "usage_calls": calls,
    }
    print("summary " + json.dumps(summary))


if __name__ == "__main__":
    try:
        main()
    except (ApiError, RuntimeError, urllib.error.URLError) as failure:
        sys.exit(f"error: {failure}")
