// Stripe's wire conventions for the Stripe fake: bracket-syntax form bodies, the error shape,
// ids, list envelopes and the webhook signature (`Stripe-Signature: t=...,v1=...`).
import { createHmac, randomBytes } from "node:crypto";
import type { FakeReply, Fault } from "./base";

export type FormValue = string | FormObject | FormValue[];
export interface FormObject {
  [key: string]: FormValue;
}

/** `a[b][0][c]=x` → `{a: {b: [{c: "x"}]}}`, as Stripe reads its form-encoded bodies. */
export function decodeStripeForm(text: string): FormObject {
  const root: FormObject = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const first = key.split("[", 1)[0] ?? key;
    const rest = [...key.slice(first.length).matchAll(/\[([^\]]*)\]/g)].map((m) => m[1] ?? "");
    const path = [first, ...rest];
    let node: FormObject = root;
    for (let i = 0; i < path.length - 1; i++) {
      const seg = path[i]!;
      const child = node[seg];
      if (child === undefined || typeof child === "string") node[seg] = {};
      node = node[seg] as FormObject;
    }
    let last = path[path.length - 1]!;
    if (last === "") last = String(Object.keys(node).length);
    node[last] = value;
  }
  return arrayify(root) as FormObject;
}

function arrayify(v: FormValue): FormValue {
  if (typeof v === "string" || Array.isArray(v)) return v;
  const keys = Object.keys(v);
  const out: FormObject = {};
  for (const k of keys) out[k] = arrayify(v[k]!);
  if (keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
    return keys.sort((a, b) => Number(a) - Number(b)).map((k) => out[k]!);
  }
  return out;
}

export function str(v: FormValue | undefined): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function obj(v: FormValue | undefined): FormObject {
  return v !== undefined && typeof v === "object" && !Array.isArray(v) ? v : {};
}

export function list(v: FormValue | undefined): FormObject[] {
  if (Array.isArray(v)) return v.map(obj);
  return [];
}

/** Stripe's `metadata`: string values; an empty value deletes the key on update. */
export function metadata(
  v: FormValue | undefined,
  base: Record<string, string> = {},
): Record<string, string> {
  const out = { ...base };
  for (const [k, val] of Object.entries(obj(v))) {
    if (typeof val !== "string") continue;
    if (val === "") delete out[k];
    else out[k] = val;
  }
  return out;
}

export function bool(v: FormValue | undefined): boolean | undefined {
  if (v === "true") return true;
  if (v === "false") return false;
  return undefined;
}

export function stripeId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString("base64url").replace(/[-_]/g, "x")}`;
}

export function stripeError(
  status: number,
  type: string,
  message: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): FakeReply {
  return {
    status,
    headers: { "request-id": stripeId("req"), ...headers },
    json: { error: { type, message, ...extra } },
  };
}

export function missing(kind: string, id: string): FakeReply {
  return stripeError(404, "invalid_request_error", `No such ${kind}: '${id}'`, {
    code: "resource_missing",
    param: "id",
  });
}

export function paramMissing(param: string): FakeReply {
  return stripeError(400, "invalid_request_error", `Missing required param: ${param}.`, {
    code: "parameter_missing",
    param,
  });
}

export function invalidParam(param: string, message: string): FakeReply {
  return stripeError(400, "invalid_request_error", message, { code: "parameter_invalid", param });
}

/** A list envelope as Stripe answers `GET /v1/<resource>`. */
export function stripeList(url: string, data: unknown[], limit: number): unknown {
  return { object: "list", data: data.slice(0, limit), has_more: data.length > limit, url };
}

/**
 * A fault for `fake.injectFault`: 429 carries Retry-After and `rate_limit`, 5xx an `api_error`;
 * Stripe-Should-Retry tells the SDK what a real answer would.
 */
export function stripeFault(status: 429 | 500 | 502 | 503, retryAfterSeconds = 1): Fault {
  const rate = status === 429;
  const reply = stripeError(
    status,
    rate ? "invalid_request_error" : "api_error",
    rate
      ? "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests."
      : "Something went wrong on Stripe's end. (injected)",
    rate ? { code: "rate_limit" } : {},
    {
      "stripe-should-retry": "true",
      ...(rate ? { "retry-after": String(retryAfterSeconds) } : {}),
    },
  );
  return { kind: "status", status, headers: reply.headers, json: reply.json };
}

/** `Stripe-Signature` for `body` as Stripe computes it: v1 = HMAC-SHA256(secret, "t.body"). */
export function stripeSignatureHeader(body: string, secret: string, timestamp?: number): string {
  const t = timestamp ?? Math.floor(Date.now() / 1000);
  const v1 = createHmac("sha256", secret).update(`${t}.${body}`, "utf8").digest("hex");
  return `t=${t},v1=${v1}`;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
