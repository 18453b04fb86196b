// What a browser frontend does with a client generated from the published spec: log in, create
// customers, page through them, patch one with If-Match and recover from a stale ETag with the
// typed `current` of the 412, read a 422's offending fields, and move an order through its
// steps. Compiled with tsc --strict: the spec must let a client narrow every answer without a
// cast, and each step asserts what the server answered.
//
//   node out/flow.js BASE_URL ADMIN_PASSWORD
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Customer = components["schemas"]["Customer"];

const [base, password] = process.argv.slice(2);
assert.ok(base && password, "usage: flow.js BASE_URL ADMIN_PASSWORD");

const anonymous = createClient<paths>({ baseUrl: base });
const login = await anonymous.POST("/api/v1/auth/login", {
  body: { username: "admin", password },
});
assert.ok(login.data, `login: ${JSON.stringify(login.error)}`);

// A JSON frontend: the lists' CSV and NDJSON answers are for downloads, not this client.
const api = createClient<paths, "application/json" | "application/problem+json">({
  baseUrl: base,
  headers: { Authorization: `Bearer ${login.data.access_token}` },
});

// Three customers under one marker name, each created once even if the request is retried.
const marker = `TS客户 ${randomUUID().slice(0, 8)}`;
const created: { customer: Customer; etag: string }[] = [];
for (const n of [1, 2, 3]) {
  const { data, error, response } = await api.POST("/api/v1/customers", {
    params: { header: { "Idempotency-Key": randomUUID() } },
    body: { kind: "organization", legal_name: `${marker} ${n}`, country: "CN" },
  });
  assert.ok(data, `create: ${JSON.stringify(error)}`);
  assert.equal(response.status, 201);
  const etag = response.headers.get("ETag");
  assert.ok(etag);
  assert.equal(data.legal_name, `${marker} ${n}`);
  created.push({ customer: data, etag });
}

// Every page of the search, following next_cursor to its end.
const seen: string[] = [];
let cursor: string | undefined;
let pages = 0;
do {
  const query = cursor === undefined ? { q: marker, limit: 2 } : { q: marker, limit: 2, cursor };
  const { data, error } = await api.GET("/api/v1/customers", { params: { query } });
  assert.ok(data, `list: ${JSON.stringify(error)}`);
  seen.push(...data.items.map((customer) => customer.id));
  cursor = data.next_cursor ?? undefined;
  pages += 1;
} while (cursor !== undefined);
assert.deepEqual(seen.sort(), created.map(({ customer }) => customer.id).sort());
assert.equal(pages, 2);

// A merge patch under If-Match, then the same patch on the ETag it replaced.
const [first] = created;
assert.ok(first);
const patchFirst = (etag: string, body: components["schemas"]["CustomerPatch"]) =>
  api.PATCH("/api/v1/customers/{id}", {
    params: { path: { id: first.customer.id }, header: { "If-Match": etag } },
    headers: { "Content-Type": "application/merge-patch+json" },
    body,
  });
const changed = await patchFirst(first.etag, { region: "广东省深圳市", tags: ["vip"], short_name: null });
assert.ok(changed.data, `patch: ${JSON.stringify(changed.error)}`);
assert.equal(changed.data.region, "广东省深圳市");
assert.deepEqual(changed.data.tags, ["vip"]);
assert.equal(changed.data.version, first.customer.version + 1);

const stale = await patchFirst(first.etag, { region: "上海市" });
assert.equal(stale.response.status, 412);
assert.ok(stale.error && "current" in stale.error, `stale patch: ${JSON.stringify(stale.error)}`);
// `current` is typed as a Customer: a client merges its change into it and retries.
const current: Customer = stale.error.current;
assert.equal(stale.error.code, "version_mismatch");
assert.equal(current.version, changed.data.version);
assert.equal(current.region, "广东省深圳市");
const currentEtag = stale.response.headers.get("ETag");
assert.equal(currentEtag, changed.response.headers.get("ETag"));
assert.ok(currentEtag);
const retried = await patchFirst(currentEtag, { region: "上海市" });
assert.ok(retried.data, `retry: ${JSON.stringify(retried.error)}`);
assert.equal(retried.data.region, "上海市");
assert.deepEqual(retried.data.tags, ["vip"]);

// A refused patch names its fields and changes nothing.
const retriedEtag = retried.response.headers.get("ETag");
assert.ok(retriedEtag);
const refused = await patchFirst(retriedEtag, { legal_name: "", emails: ["not an address"] });
assert.equal(refused.response.status, 422);
assert.ok(refused.error);
assert.equal(refused.error.code, "validation_failed");
assert.deepEqual(
  (refused.error.errors ?? []).map((e) => e.field).sort(),
  ["emails[0]", "legal_name"],
);
const after = await api.GET("/api/v1/customers/{id}", {
  params: { path: { id: first.customer.id } },
});
assert.ok(after.data);
assert.equal(after.data.legal_name, first.customer.legal_name);
assert.equal(after.data.version, retried.data.version);

// A credit line carried over from the old system, which the order steps are checked against.
const line = await api.POST("/api/v1/credit/agreements", {
  body: {
    customer_id: first.customer.id,
    currency: "CNY",
    limit_minor: 100_000_000,
    term_days: 60,
    reason: "旧系统迁移额度",
  },
});
assert.ok(line.data, `line: ${JSON.stringify(line.error)}`);
assert.equal(line.data.standing, "in_force");

// The credit check before a promise, with the generated body type.
const sale: components["schemas"]["CreditCheckInput"] = {
  customer_id: first.customer.id,
  amount_minor: 120_000_000,
  currency: "CNY",
  stage: "order",
};
const checked = await api.POST("/api/v1/credit/check", { body: sale });
assert.ok(checked.data, `check: ${JSON.stringify(checked.error)}`);
assert.equal(checked.data.decision, "block");
assert.equal(checked.data.limit_minor, 100_000_000);
assert.deepEqual(
  checked.data.reasons.map((r) => r.code),
  ["over_limit_beyond_tolerance"],
);

// An order: recorded, confirmed with no body, cancelled with the reason the step requires.
const order = await api.POST("/api/v1/orders", {
  body: {
    customer_id: first.customer.id,
    currency: "CNY",
    lines: [
      {
        product_code: "CX-200",
        product_name: "数控折弯机",
        quantity: 2,
        unit_price_minor: 45_000_000,
        unit_cost_minor: 36_000_000,
      },
    ],
  },
});
assert.ok(order.data, `order: ${JSON.stringify(order.error)}`);
assert.equal(order.data.totals.profit.amount_minor, 18_000_000);
const confirmed = await api.POST("/api/v1/orders/{id}/confirm", {
  params: { path: { id: order.data.id } },
});
assert.ok(confirmed.data, `confirm: ${JSON.stringify(confirmed.error)}`);
assert.equal(confirmed.data.status, "confirmed");
assert.equal(confirmed.data.credit_check?.decision, "allow");
// An override of the credit department, with the generated body type.
const grant: components["schemas"]["CreditOverrideInput"] = {
  order_id: order.data.id,
  amount_minor: 90_000_000,
  reason: "总经理特批: 政府项目, 回款有保障",
  expires_on: "2999-12-31",
};
const granted = await api.POST("/api/v1/credit/overrides", { body: grant });
assert.ok(granted.data, `override: ${JSON.stringify(granted.error)}`);
assert.equal(granted.data.amount_minor, 90_000_000);
assert.equal(granted.data.used_at, null);
const cancelled = await api.POST("/api/v1/orders/{id}/cancel", {
  params: { path: { id: order.data.id } },
  body: { reason: "客户撤回采购计划" },
});
assert.ok(cancelled.data, `cancel: ${JSON.stringify(cancelled.error)}`);
assert.equal(cancelled.data.status, "cancelled");

console.log(
  "typescript client: login, create, page, patch, stale 412 and retry, 422, credit check, order steps, override: ok",
);
