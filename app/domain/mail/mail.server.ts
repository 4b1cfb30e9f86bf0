import { and, eq, inArray } from "drizzle-orm";
import { createHmac, timingSafeEqual } from "node:crypto";
import { getControlDb } from "~/db/control.server";
import { mailOptOuts } from "~/db/schema/control";
import { accountClosed, type AccountClosedData } from "~/emails/account-closed";
import { changeEmail, type ChangeEmailData } from "~/emails/change-email";
import { dsarNotice, type DsarNoticeData } from "~/emails/dsar-notice";
import { dsarVerify, type DsarVerifyData } from "~/emails/dsar-verify";
import {
  dsarArrived,
  dsarEscalated,
  dsarOutcome,
  dsarReminder,
  type DsarArrivedData,
  type DsarEscalatedData,
  type DsarOutcomeData,
  type DsarReminderData,
} from "~/emails/dsar-mail";
import { invitation, type InvitationData } from "~/emails/invitation";
import type { MailFrame, RenderedMail } from "~/emails/layout";
import { mfaChanged, type MfaChangedData } from "~/emails/mfa-changed";
import { newDeviceSignIn, type NewDeviceSignInData } from "~/emails/new-device-sign-in";
import { policyChanged, type PolicyChangedData } from "~/emails/policy-changed";
import { resetPassword, type ResetPasswordData } from "~/emails/reset-password";
import { MailTransportError, isFileMailbox, sendMail } from "~/emails/transport.server";
import { verifyEmail, type VerifyEmailData } from "~/emails/verify-email";
import { getEnv } from "~/lib/env.server";
import { AppError, ValidationError } from "~/lib/errors";
import { getSecrets } from "~/lib/local-secrets.server";
import { logger } from "~/lib/logger.server";
import { recordAudit } from "../audit/audit.server";
import type { SystemContext } from "../context";

/**
 * Platform transactional mail (policy §6). Required mail (verification, reset, email change,
 * invitation, MFA change) always goes out. Optional mail has a category; an address that opted
 * out of it is skipped, and every optional mail carries a signed one-click unsubscribe link in
 * its body and in List-Unsubscribe / List-Unsubscribe-Post headers (RFC 8058).
 */

/** Categories of optional mail a person can unsubscribe from. */
export const MAIL_CATEGORIES = ["security_notices"] as const;
export type MailCategory = (typeof MAIL_CATEGORIES)[number];
/** "all": every optional category at once (the link in the footer of required mail). */
export type OptOutScope = MailCategory | "all";

const SCOPE_LABELS: Record<OptOutScope, string> = {
  security_notices: "new sign-in alerts",
  all: "all optional emails from Pleisys Engage",
};

export function describeOptOutScope(scope: OptOutScope): string {
  return SCOPE_LABELS[scope];
}

export interface MailData {
  "verify-email": VerifyEmailData;
  "reset-password": ResetPasswordData;
  "change-email": ChangeEmailData;
  invitation: InvitationData;
  "new-device-sign-in": NewDeviceSignInData;
  "mfa-changed": MfaChangedData;
  "dsar-verify": DsarVerifyData;
  "dsar-notice": DsarNoticeData;
  "policy-changed": PolicyChangedData;
  "account-closed": AccountClosedData;
  "dsar-outcome": DsarOutcomeData;
  "dsar-arrived": DsarArrivedData;
  "dsar-escalated": DsarEscalatedData;
  "dsar-reminder": DsarReminderData;
}
export type MailKind = keyof MailData;

type Frame = MailFrame & { unsubscribeUrl: string };

const KINDS: {
  [K in MailKind]: {
    category: MailCategory | null;
    render: (d: MailData[K] & Frame) => RenderedMail;
  };
} = {
  "verify-email": { category: null, render: verifyEmail },
  "reset-password": { category: null, render: resetPassword },
  "change-email": { category: null, render: changeEmail },
  invitation: { category: null, render: invitation },
  "mfa-changed": { category: null, render: mfaChanged },
  "dsar-verify": { category: null, render: dsarVerify },
  "dsar-notice": { category: null, render: dsarNotice },
  "policy-changed": { category: null, render: policyChanged },
  "account-closed": { category: null, render: accountClosed },
  "new-device-sign-in": { category: "security_notices", render: newDeviceSignIn },
  "dsar-outcome": { category: null, render: dsarOutcome },
  "dsar-arrived": { category: null, render: dsarArrived },
  "dsar-escalated": { category: null, render: dsarEscalated },
  "dsar-reminder": { category: null, render: dsarReminder },
};

/** Which category a kind belongs to; null for required mail. */
export function mailCategory(kind: MailKind): MailCategory | null {
  return KINDS[kind].category;
}

export type MailDeliveryReason =
  "invalid" | "rejected" | "throttled" | "configuration" | "unavailable";

/**
 * Sending failed. The message is safe to show; `retryable` tells the caller whether trying
 * again later can help (throttling, outages) or not (a rejected address, a broken message).
 */
export class MailDeliveryError extends AppError {
  readonly reason: MailDeliveryReason;
  readonly retryable: boolean;
  constructor(reason: MailDeliveryReason, retryable: boolean, options?: { cause?: unknown }) {
    super(
      reason === "rejected" || reason === "invalid"
        ? "We could not send an email to this address. Check it and try again."
        : "We could not send the email right now. Please try again in a few minutes.",
      reason === "invalid" ? 400 : reason === "rejected" ? 422 : 503,
      `mail_${reason}`,
    );
    this.reason = reason;
    this.retryable = retryable;
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

export type SendOutcome =
  | { status: "sent"; id: string; transport: "ses" | "file" }
  | { status: "skipped"; reason: "opted_out" };

// ---------------------------------------------------------------------------------------------
// Unsubscribe tokens: base64url(email|scope) "." base64url(HMAC-SHA256(sessionSecret)).

const TOKEN_CONTEXT = "engage:mail-unsubscribe:v1:";
const MAX_TOKEN_LENGTH = 1024;
const SCOPES = new Set<string>([...MAIL_CATEGORIES, "all"]);

export function normalizeMailAddress(email: string): string {
  return email.trim().toLowerCase();
}

function sign(payload: string): Buffer {
  return createHmac("sha256", getSecrets().sessionSecret)
    .update(TOKEN_CONTEXT + payload)
    .digest();
}

export function createUnsubscribeToken(email: string, scope: OptOutScope): string {
  const payload = Buffer.from(`${normalizeMailAddress(email)}|${scope}`, "utf8").toString(
    "base64url",
  );
  return `${payload}.${sign(payload).toString("base64url")}`;
}

export function unsubscribeUrl(email: string, scope: OptOutScope): string {
  return `${getEnv().BASE_URL}/unsubscribe?token=${createUnsubscribeToken(email, scope)}`;
}

export class InvalidUnsubscribeTokenError extends ValidationError {
  constructor() {
    super(
      "This unsubscribe link is not valid. It may have been copied incompletely: open the link from the email again, or write to privacy@pleisys.com and we will unsubscribe you.",
    );
  }
}

/** The address and scope a token was made for; throws InvalidUnsubscribeTokenError. */
export function verifyUnsubscribeToken(token: string): { email: string; scope: OptOutScope } {
  const match =
    token.length <= MAX_TOKEN_LENGTH ? /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/.exec(token) : null;
  if (!match) throw new InvalidUnsubscribeTokenError();
  const [, payload, signature] = match as unknown as [string, string, string];
  // Compared as canonical text, so no second spelling of the same signature is accepted.
  const given = Buffer.from(signature, "ascii");
  const expected = Buffer.from(sign(payload).toString("base64url"), "ascii");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new InvalidUnsubscribeTokenError();
  }
  const decoded = Buffer.from(payload, "base64url").toString("utf8");
  const bar = decoded.lastIndexOf("|");
  const email = decoded.slice(0, bar);
  const scope = decoded.slice(bar + 1);
  if (bar <= 0 || !SCOPES.has(scope)) throw new InvalidUnsubscribeTokenError();
  return { email, scope: scope as OptOutScope };
}

// ---------------------------------------------------------------------------------------------
// Opt-outs.

/** Whether mail of `category` must not go to `email` (opted out of it, or of all optional mail). */
export function isOptedOut(email: string, category: OptOutScope): boolean {
  const row = getControlDb()
    .select({ category: mailOptOuts.category })
    .from(mailOptOuts)
    .where(
      and(
        eq(mailOptOuts.email, normalizeMailAddress(email)),
        inArray(mailOptOuts.category, category === "all" ? ["all"] : [category, "all"]),
      ),
    )
    .get();
  return row !== undefined;
}

/** For the unsubscribe page: what a token covers, with the address partly hidden. */
export function describeUnsubscribe(token: string): {
  maskedEmail: string;
  scope: OptOutScope;
  what: string;
  alreadyOptedOut: boolean;
} {
  const { email, scope } = verifyUnsubscribeToken(token);
  return {
    maskedEmail: maskEmail(email),
    scope,
    what: describeOptOutScope(scope),
    alreadyOptedOut: isOptedOut(email, scope),
  };
}

/** `a***@example.com`: enough for the owner to recognise, little for anyone the link leaks to. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf("@");
  if (at <= 0) return "***";
  return `${email[0]}***${email.slice(at)}`;
}

/**
 * Records the opt-out a token stands for. Idempotent: a second call changes nothing and adds no
 * audit row. The audit row names the address by a keyed hash, never in clear: audit rows live
 * 7 years and must not outlive an erasure request.
 */
export function optOut(
  ctx: SystemContext,
  token: string,
): { maskedEmail: string; scope: OptOutScope; what: string; changed: boolean } {
  const { email, scope } = verifyUnsubscribeToken(token);
  const inserted = getControlDb()
    .insert(mailOptOuts)
    .values({ email, category: scope, createdAt: ctx.now() })
    .onConflictDoNothing()
    .run();
  const changed = inserted.changes > 0;
  if (changed) {
    recordAudit(ctx, {
      action: "mail.opted_out",
      target: { type: "mail_address", id: addressFingerprint(email) },
      details: { category: scope },
    });
  }
  return { maskedEmail: maskEmail(email), scope, what: describeOptOutScope(scope), changed };
}

function addressFingerprint(email: string): string {
  return createHmac("sha256", getSecrets().sessionSecret)
    .update(`engage:mail-address:v1:${email}`)
    .digest("hex")
    .slice(0, 32);
}

// ---------------------------------------------------------------------------------------------
// Sending.

/**
 * Renders `kind` with `data` and sends it to `to`. Optional kinds are skipped for addresses
 * that opted out. Failures are logged (no bodies, no links) and thrown as MailDeliveryError.
 */
export async function sendTransactional<K extends MailKind>(
  ctx: SystemContext,
  kind: K,
  to: string,
  data: MailData[K],
): Promise<SendOutcome> {
  const address = normalizeMailAddress(to);
  const { category, render } = KINDS[kind];
  const log = logger.child({ mailKind: kind, actor: ctx.actor.type, toDomain: domainOf(address) });

  if (category && isOptedOut(address, category)) {
    log.info({ category }, "mail skipped: the address opted out");
    return { status: "skipped", reason: "opted_out" };
  }

  // Optional mail unsubscribes from its own category; required mail offers "all optional mail".
  const link = unsubscribeUrl(address, category ?? "all");
  const frame: Frame = { baseUrl: getEnv().BASE_URL, unsubscribeUrl: link };
  const rendered = render({ ...data, ...frame } as MailData[K] & Frame);
  const headers: Record<string, string> = {};
  if (category) {
    headers["List-Unsubscribe"] = `<${link}>`;
    headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click";
  }

  const transport = isFileMailbox() ? "file" : "ses";
  try {
    const { id } = await sendMail({ to: address, ...rendered, headers });
    log.info({ mailId: id, transport }, "mail sent");
    return { status: "sent", id, transport };
  } catch (error) {
    if (!(error instanceof MailTransportError)) {
      log.error({ transport, err: safeError(error) }, "mail failed");
      throw new MailDeliveryError("unavailable", true, { cause: error });
    }
    log.error(
      {
        transport,
        failure: error.failure,
        retryable: error.retryable,
        providerCode: error.providerCode,
        httpStatus: error.httpStatus,
        err: safeError(error),
      },
      "mail failed",
    );
    throw new MailDeliveryError(error.failure, error.retryable, { cause: error });
  }
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf("@") + 1);
}

/** Name and message only: the SDK's error objects carry request details we don't log. */
function safeError(error: unknown): { name: string; message: string } {
  return error instanceof Error
    ? { name: error.name, message: error.message.slice(0, 500) }
    : { name: "unknown", message: String(error).slice(0, 500) };
}
