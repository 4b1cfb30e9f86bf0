import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { eq } from "drizzle-orm";
import { inboundEmailSettings } from "~/db/schema/tenant-inbox";
import { withTenantDb, type TenantDb } from "~/db/tenants.server";
import { decryptSecret, encryptSecret } from "~/lib/crypto/vault.server";
import { getEnv } from "~/lib/env.server";
import { recordAudit } from "../audit/audit.server";
import type { WorkspaceContext } from "../context";
import { aadFor, encryptedColumns } from "../security/encrypted-columns.server";

/**
 * The secret that signs a workspace's inbound email forwarder webhook, and the Standard
 * Webhooks signature check: `webhook-signature: v1,<base64 HMAC-SHA256>` over
 * `<webhook-id>.<webhook-timestamp>.<body>`, keyed with the base64-decoded part of the
 * `whsec_...` secret, timestamp within five minutes.
 */

const COLUMN = encryptedColumns.find(
  (c) => c.aadPrefix === "inbound_email_settings.webhook_secret_enc",
)!;
const ROW_ID = 1;
/** How far a webhook-timestamp may be from now (either way). */
export const FORWARD_TOLERANCE_MS = 5 * 60_000;

const MAILGUN_COLUMN = encryptedColumns.find(
  (c) => c.aadPrefix === "inbound_email_settings.mailgun_signing_key_enc",
)!;

export interface InboundEmailSecretStatus {
  configured: boolean;
  rotatedAt: Date | null;
  /** A Mailgun signing key is saved (Mailgun route forwards are taken). */
  mailgun: boolean;
}

export function inboundEmailSecretStatus(ctx: WorkspaceContext): InboundEmailSecretStatus {
  const row = ctx.db
    .select({
      enc: inboundEmailSettings.webhookSecretEnc,
      at: inboundEmailSettings.rotatedAt,
      mailgun: inboundEmailSettings.mailgunSigningKeyEnc,
    })
    .from(inboundEmailSettings)
    .where(eq(inboundEmailSettings.id, ROW_ID))
    .get();
  return {
    configured: Boolean(row?.enc),
    rotatedAt: row?.enc ? row.at : null,
    mailgun: Boolean(row?.mailgun),
  };
}

/** Saves (or, with null, removes) the Mailgun HTTP webhook signing key of the workspace. */
export function saveMailgunSigningKey(ctx: WorkspaceContext, key: string | null): void {
  const enc = key ? encryptSecret(key, aadFor(MAILGUN_COLUMN, ROW_ID)) : null;
  ctx.db
    .insert(inboundEmailSettings)
    .values({ id: ROW_ID, mailgunSigningKeyEnc: enc, rotatedAt: ctx.now() })
    .onConflictDoUpdate({ target: inboundEmailSettings.id, set: { mailgunSigningKeyEnc: enc } })
    .run();
  recordAudit(ctx, {
    action: key ? "inbound_email.mailgun_key_saved" : "inbound_email.mailgun_key_removed",
    workspaceId: ctx.workspaceId,
    target: { type: "workspace", id: ctx.workspaceId },
  });
}

/** The workspace's Mailgun signing key, or null. */
export function mailgunSigningKeyOf(workspaceId: string): Promise<string | null> {
  return withTenantDb(workspaceId, async (db) => {
    const row = db
      .select({ enc: inboundEmailSettings.mailgunSigningKeyEnc })
      .from(inboundEmailSettings)
      .where(eq(inboundEmailSettings.id, ROW_ID))
      .get();
    return row?.enc ? decryptSecret(row.enc, aadFor(MAILGUN_COLUMN, ROW_ID)) : null;
  });
}

/**
 * Mailgun's webhook signature: hex HMAC-SHA256 of timestamp + token under the signing key,
 * timestamp within the same five minutes. Null when it holds, else why not.
 */
export function checkMailgunSignature(
  key: string,
  fields: { timestamp: string; token: string; signature: string },
  now = Date.now(),
): string | null {
  const { timestamp, token, signature } = fields;
  if (!timestamp || !token || !signature) return "timestamp, token and signature are required";
  if (!/^\d{1,12}$/.test(timestamp)) return "timestamp is not a Unix time in seconds";
  if (Math.abs(now - Number(timestamp) * 1000) > FORWARD_TOLERANCE_MS) {
    return "timestamp is more than five minutes away from now";
  }
  const expected = Buffer.from(
    createHmac("sha256", key).update(`${timestamp}${token}`).digest("hex"),
  );
  const given = Buffer.from(signature.toLowerCase());
  return given.length === expected.length && timingSafeEqual(given, expected)
    ? null
    : "signature does not match";
}

/** A new secret (the old one stops working at once); returned once, never shown again. */
export function rotateInboundEmailSecret(ctx: WorkspaceContext): string {
  const secret = `whsec_${randomBytes(32).toString("base64")}`;
  const enc = encryptSecret(secret, aadFor(COLUMN, ROW_ID));
  const now = ctx.now();
  ctx.db
    .insert(inboundEmailSettings)
    .values({ id: ROW_ID, webhookSecretEnc: enc, rotatedAt: now })
    .onConflictDoUpdate({
      target: inboundEmailSettings.id,
      set: { webhookSecretEnc: enc, rotatedAt: now },
    })
    .run();
  recordAudit(ctx, {
    action: "inbound_email.secret_rotated",
    workspaceId: ctx.workspaceId,
    target: { type: "workspace", id: ctx.workspaceId },
  });
  return secret;
}

function storedSecret(db: TenantDb): string | null {
  const row = db
    .select({ enc: inboundEmailSettings.webhookSecretEnc })
    .from(inboundEmailSettings)
    .where(eq(inboundEmailSettings.id, ROW_ID))
    .get();
  return row?.enc ? decryptSecret(row.enc, aadFor(COLUMN, ROW_ID)) : null;
}

/** The workspace's forwarder secret, or null when none was generated. */
export function inboundEmailSecretOf(workspaceId: string): Promise<string | null> {
  return withTenantDb(workspaceId, async (db) => storedSecret(db));
}

/** The Standard Webhooks `v1,<signature>` for a body (forwarders and tests compute the same). */
export function signForwardedEmail(
  secret: string,
  id: string,
  timestamp: string,
  body: Buffer | string,
): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const mac = createHmac("sha256", key)
    .update(`${id}.${timestamp}.`)
    .update(typeof body === "string" ? Buffer.from(body, "utf8") : body)
    .digest("base64");
  return `v1,${mac}`;
}

/**
 * Null when the headers prove the body was signed with `secret` within the tolerance, else
 * why not. `webhook-signature` may list several space-separated signatures (during rotation).
 */
export function checkForwardSignature(
  secret: string,
  headers: Record<string, string>,
  body: Buffer,
  now = Date.now(),
): string | null {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const signatures = headers["webhook-signature"];
  if (!id || !timestamp || !signatures) {
    return "webhook-id, webhook-timestamp and webhook-signature are required";
  }
  if (!/^\d{1,12}$/.test(timestamp)) return "webhook-timestamp is not a Unix time in seconds";
  if (Math.abs(now - Number(timestamp) * 1000) > FORWARD_TOLERANCE_MS) {
    return "webhook-timestamp is more than five minutes away from now";
  }
  const expected = Buffer.from(signForwardedEmail(secret, id, timestamp, body).slice(3));
  for (const candidate of signatures.split(" ")) {
    if (!candidate.startsWith("v1,")) continue;
    const given = Buffer.from(candidate.slice(3));
    if (given.length === expected.length && timingSafeEqual(given, expected)) return null;
  }
  return "webhook-signature does not match";
}

export interface InboundEmailSetup extends InboundEmailSecretStatus {
  /** INBOUND_EMAIL_DOMAIN, or null: outgoing email then carries no reply address. */
  domain: string | null;
  /** Where a mail forwarder POSTs this workspace's mail. */
  forwardUrl: string;
  /** Where a Mailgun route forwards this workspace's mail (ends in .mime: raw MIME). */
  mailgunUrl: string;
  /** The platform's SES receipt endpoint (the operator subscribes it to the SNS topic). */
  sesUrl: string;
}

/** What the inbound email settings page shows (never the secret itself). */
export function inboundEmailSetup(ctx: WorkspaceContext): InboundEmailSetup {
  const base = getEnv().BASE_URL.replace(/\/$/, "");
  return {
    ...inboundEmailSecretStatus(ctx),
    domain: getEnv().INBOUND_EMAIL_DOMAIN ?? null,
    forwardUrl: `${base}/webhooks/inbound-email/forward?workspace=${ctx.workspaceId}`,
    mailgunUrl: `${base}/webhooks/inbound-email/${ctx.workspaceId}.mime`,
    sesUrl: `${base}/webhooks/inbound-email/ses`,
  };
}
