import { eq } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { workspaces, type dsarRequests } from "~/db/schema/control";
import type { DsarOutcomeData } from "~/emails/dsar-mail";
import { decryptSecret } from "~/lib/crypto/vault.server";
import { logger } from "~/lib/logger.server";
import { notify } from "../accounts/notify.server";
import type { SystemContext } from "../context";
import { requesterSms } from "./dsar-sms.server";

/**
 * Telling the requester (DSAR contract): by email when they proved one, else a short SMS to
 * their proven phone, through the portal's SMS route (dsar-sms).
 */

type RequestRow = typeof dsarRequests.$inferSelect;

export type RequesterMessage = { kind: "outcome"; data: DsarOutcomeData };

export interface RequesterIdentifiers {
  email: string | null;
  phone: string | null;
  details: string | null;
}

/**
 * The requester's proven identifiers and details, decrypted (aad per the DSAR contract). An
 * identifier the requester did not prove is never returned: everything that searches, exports,
 * erases, opts out or writes to the requester goes through here.
 */
export function requesterOf(request: RequestRow): RequesterIdentifiers {
  const open = (value: string | null, column: string) =>
    value ? decryptSecret(value, `dsar_requests.${column}:${request.id}`) : null;
  return {
    email: request.emailProven ? open(request.emailEnc, "email_enc") : null,
    phone: request.phoneProven ? open(request.phoneEnc, "phone_enc") : null,
    details: open(request.detailsEnc, "details_enc"),
  };
}

/** Whom a request was made to: the portal's business, or Pleisys Engage for the platform form. */
export function askedBusiness(portalWorkspaceId: string | null): string {
  if (!portalWorkspaceId) return "Pleisys Engage";
  const row = getControlDb()
    .select({ name: workspaces.name })
    .from(workspaces)
    .where(eq(workspaces.id, portalWorkspaceId))
    .get();
  return row?.name ?? "Pleisys Engage";
}

function smsText(message: RequesterMessage): string {
  const links = message.data.downloads.map((d) => d.url).join(" ");
  const done = message.data.declined ? "was declined" : "is complete";
  return `${message.data.askedName}: your privacy request ${done}. ${message.data.lines.join(" ")} ${links}`
    .replace(/\s+/g, " ")
    .trim();
}

export type NotifyResult = { channel: "email" | "sms" | "none"; sent: boolean };

export async function notifyRequester(
  ctx: SystemContext,
  request: RequestRow,
  message: RequesterMessage,
): Promise<NotifyResult> {
  const { email, phone } = requesterOf(request);
  if (email) {
    const sent = await notify(ctx, "dsar-outcome", email, message.data);
    return { channel: "email", sent };
  }
  if (!phone) return { channel: "none", sent: false };
  const sms = requesterSms(request.portalWorkspaceId);
  if (!sms) {
    // Only when the SMS settings were removed after the code went out: the status page still
    // shows the outcome.
    logger.warn({ requestId: request.id }, "privacy request notice: no SMS route");
    return { channel: "sms", sent: false };
  }
  try {
    await sms.send(phone, smsText(message));
    return { channel: "sms", sent: true };
  } catch (error) {
    logger.error({ err: error, requestId: request.id }, "privacy request SMS not sent");
    return { channel: "sms", sent: false };
  }
}
