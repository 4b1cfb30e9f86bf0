// Razorpay's wire conventions for the Razorpay fake: the error shape, injected faults, the
// HMAC-SHA256 signatures (webhooks and Checkout), and the validation helpers routes share.
import { createHmac } from "node:crypto";
import type { FakeReply, Fault } from "./base";
import type { Json } from "./razorpay-billing";

export function razorpayError(
  status: number,
  description: string,
  field?: string,
  code = "BAD_REQUEST_ERROR",
  headers: Record<string, string> = {},
): FakeReply {
  const validation = field !== undefined;
  return {
    status,
    headers,
    json: {
      error: {
        code,
        description,
        source: validation ? "business" : "NA",
        step: validation ? "payment_initiation" : "NA",
        reason: validation ? "input_validation_failed" : "NA",
        metadata: {},
        ...(field ? { field } : {}),
      },
    },
  };
}

/** A fault for `fake.injectFault`: 429 (with Retry-After) or a 5xx SERVER_ERROR. */
export function razorpayFault(status: 429 | 500 | 502 | 503, retryAfterSeconds = 1): Fault {
  const reply =
    status === 429
      ? razorpayError(429, "Too many requests", undefined, "BAD_REQUEST_ERROR", {
          "retry-after": String(retryAfterSeconds),
        })
      : razorpayError(
          status,
          "The server encountered an error. (injected)",
          undefined,
          "SERVER_ERROR",
        );
  return { kind: "status", status, headers: reply.headers, json: reply.json };
}

export function razorpaySignature(body: string, secret: string): string {
  return createHmac("sha256", secret).update(body, "utf8").digest("hex");
}

export const SUBSCRIPTION_FIELDS = [
  "plan_id",
  "total_count",
  "quantity",
  "start_at",
  "expire_by",
  "customer_notify",
  "addons",
  "offer_id",
  "notes",
  "notify_info",
];

/** Razorpay refuses fields an endpoint does not take, naming them. */
export function unexpected(body: Json, allowed: string[]): FakeReply | null {
  const extra = Object.keys(body).filter((k) => !allowed.includes(k));
  if (extra.length === 0) return null;
  return razorpayError(
    400,
    `${extra.join(", ")} is/are not required and should not be sent`,
    extra[0],
  );
}

export const notFound = () => razorpayError(400, "The id provided does not exist");
export const flag = (v: unknown) => v === true || v === 1 || v === "1" || v === "true";
export const isAmount = (v: unknown) => Number.isInteger(v) && (v as number) >= 100;
