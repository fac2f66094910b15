#!/usr/bin/env node
// A Web4 Cloud API client with Node's built-in fetch (Node 18 or later), no packages.
//
// Finds (or registers) a service, waits until the mesh can route to it, invokes it with an
// Idempotency-Key (and retries with the same key to see the stored answer replayed), then
// reads the account's usage.
//
//   WEB4_URL=http://127.0.0.1:3000 WEB4_API_KEY=w4k_... WEB4_UPSTREAM=http://127.0.0.1:9000 \
//     node examples/javascript/client.mjs
//
// Optional: WEB4_SERVICE (slug, default example-echo), WEB4_HEALTH_PATH (default /).
// The API key needs the read, write and invoke scopes.
import { randomUUID } from "node:crypto";

const TRIES = 4;
const HEALTHY_WITHIN_MS = 60_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The platform's one error shape: {"error": {"code", "message", "details"?}}. */
class ApiError extends Error {
  constructor(status, body) {
    const error = body?.error ?? {};
    const details = error.details ? ` ${JSON.stringify(error.details)}` : "";
    super(`HTTP ${status} ${error.code ?? "?"}: ${error.message ?? "(no error body)"}${details}`);
    this.status = status;
    this.code = error.code;
  }
}

class Api {
  constructor(baseUrl, apiKey) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.apiKey = apiKey;
  }

  /** Sends a request; waits out Retry-After on a 429 or 503 that carries it (rate limits,
   * idempotency_in_progress, backpressure). */
  async request(method, path, body, headers = {}) {
    const init = { method, headers: { Authorization: `Bearer ${this.apiKey}`, ...headers } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
    }
    for (let attempt = 1; ; attempt++) {
      const response = await fetch(this.baseUrl + path, init);
      const wait = Number(response.headers.get("retry-after"));
      if ([429, 503].includes(response.status) && wait > 0 && attempt < TRIES) {
        await response.arrayBuffer();
        await sleep(wait * 1000);
        continue;
      }
      return response;
    }
  }

  /** The JSON answer of a 2xx, or ApiError. */
  async json(method, path, body) {
    const response = await this.request(method, path, body);
    const text = await response.text();
    const parsed = text ? JSON.parse(text) : null;
    if (!response.ok) throw new ApiError(response.status, parsed);
    return parsed;
  }
}

/** The account's service with this slug, walking every page of GET /api/v1/services. */
async function findService(api, slug) {
  let cursor = null;
  for (;;) {
    const query = new URLSearchParams({ limit: "100", ...(cursor ? { cursor } : {}) });
    const page = await api.json("GET", `/api/v1/services?${query}`);
    const found = page.items.find((service) => service.slug === slug);
    if (found) return found;
    cursor = page.next_cursor;
    if (!cursor) return null;
  }
}

function register(api, slug, upstream, healthPath) {
  return api.json("POST", "/api/v1/services", {
    slug,
    name: "Example echo",
    replicas: 1,
    http: { upstream_url: upstream, timeout_ms: 5000 },
    health_check: { path: healthPath, interval_ms: 5000, timeout_ms: 2000 },
  });
}

/** Polls discovery until it offers a healthy instance; returns how many it offers. */
async function waitUntilHealthy(api, serviceId) {
  const deadline = Date.now() + HEALTHY_WITHIN_MS;
  for (;;) {
    const discovery = await api.json("GET", `/api/v1/services/${serviceId}/discovery`);
    if (discovery.instances.length > 0) return discovery.instances.length;
    if (Date.now() > deadline) {
      throw new Error(`no healthy instance of ${serviceId} after ${HEALTHY_WITHIN_MS / 1000} s: is the upstream up?`);
    }
    await sleep(250);
  }
}

/** POSTs through the mesh; returns the platform's headers of the answer. */
async function invoke(api, serviceId, idempotencyKey) {
  const response = await api.request(
    "POST",
    `/api/v1/invoke/${serviceId}/hello?from=javascript-example`,
    { hello: "web4" },
    { "Idempotency-Key": idempotencyKey },
  );
  const invokeId = response.headers.get("x-web4-invoke-id");
  const text = await response.text();
  if (invokeId === null) throw new ApiError(response.status, text ? JSON.parse(text) : null);
  return {
    status: response.status,
    invokeId,
    route: (response.headers.get("x-web4-route") ?? "").split(",").filter(Boolean),
    replayed: response.headers.get("idempotent-replayed") === "true",
  };
}

/** Calls of the service in GET /api/v1/usage (the last 30 days, today included). */
async function usageCalls(api, serviceId) {
  const usage = await api.json("GET", "/api/v1/usage");
  return usage.days.filter((day) => day.service_id === serviceId).reduce((sum, day) => sum + day.calls, 0);
}

async function main() {
  const env = process.env;
  for (const name of ["WEB4_API_KEY", "WEB4_UPSTREAM"]) {
    if (!env[name]) throw new Error(`set ${name}`);
  }
  const api = new Api(env.WEB4_URL || "http://127.0.0.1:3000", env.WEB4_API_KEY);
  const slug = env.WEB4_SERVICE || "example-echo";

  let service = await findService(api, slug);
  const registered = service === null;
  if (registered) service = await register(api, slug, env.WEB4_UPSTREAM, env.WEB4_HEALTH_PATH || "/");
  const instances = await waitUntilHealthy(api, service.id);
  console.log(`service ${slug} (${service.id}) ${registered ? "registered" : "found"}; ${instances} healthy instance(s)`);

  // One key per logical call: a retry sends the same key, so the call runs (and is billed) once.
  const key = randomUUID();
  const first = await invoke(api, service.id, key);
  console.log(`invoke: HTTP ${first.status}, invoke id ${first.invokeId}`);
  console.log(`route: ${first.route.join(" -> ")}`);
  const retry = await invoke(api, service.id, key);
  console.log(`retry with the same Idempotency-Key: replayed ${retry.replayed}, invoke id ${retry.invokeId}`);

  const calls = await usageCalls(api, service.id);
  console.log(`usage: ${calls} call(s) of ${slug} in the last 30 days`);
  const summary = {
    service_id: service.id, registered, status: first.status,
    invoke_id: first.invokeId, route: first.route, replayed: retry.replayed,
    replay_invoke_id: retry.invokeId, usage_calls: calls,
  };
  console.log(`summary ${JSON.stringify(summary)}`);
}

main().catch((failure) => {
  console.error(`error: ${failure.message}`);
  process.exit(1);
});
