import type { dsarRequests } from "~/db/schema/control";
import type { DsarExtendedData, DsarOutcomeData } from "~/emails/dsar";
import { decryptSecret } from "~/lib/crypto/vault.server";
import { logger } from "~/lib/logger.server";
import { newId } from "~/lib/tokens";
import { notify } from "../accounts/notify.server";
import type { SystemContext } from "../context";
import { integrationForChannel } from "../delivery/integrations.server";

/**
 * Telling the requester (DSAR contract): by email when they gave one, else a short SMS to their
 * verified phone. One function, so the portal's way of reaching phone-only requesters can
 * replace the SMS part in one place.
 */

type RequestRow = typeof dsarRequests.$inferSelect;

export type RequesterMessage =
  { kind: "outcome"; data: DsarOutcomeData } | { kind: "extended"; data: DsarExtendedData };

export interface RequesterIdentifiers {
  email: string | null;
  phone: string | null;
  details: string | null;
}

/** The requester's identifiers and details, decrypted (aad per the DSAR contract). */
export function requesterOf(request: RequestRow): RequesterIdentifiers {
  const open = (value: string | null, column: string) =>
    value ? decryptSecret(value, `dsar_requests.${column}:${request.id}`) : null;
  return {
    email: open(request.emailEnc, "email_enc"),
    phone: open(request.phoneEnc, "phone_enc"),
    details: open(request.detailsEnc, "details_enc"),
  };
}

function smsText(message: RequesterMessage): string {
  if (message.kind === "extended") {
    return `Pleisys Engage: your privacy request needs more time, until ${message.data.dueAt.toISOString().slice(0, 10)}. Reason: ${message.data.reason}`.slice(
      0,
      480,
    );
  }
  const links = message.data.downloads.map((d) => d.url).join(" ");
  return `Pleisys Engage: your privacy request is complete. ${message.data.lines.join(" ")} ${links}`
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
    const sent =
      message.kind === "outcome"
        ? await notify(ctx, "dsar-outcome", email, message.data)
        : await notify(ctx, "dsar-extended", email, message.data);
    return { channel: "email", sent };
  }
  if (!phone) return { channel: "none", sent: false };
  // The workspace portal's own SMS account; the platform has none yet: without one the text
  // stays in the sandbox (logged without its content), like any sandbox message.
  const integration = request.portalWorkspaceId
    ? integrationForChannel(request.portalWorkspaceId, "sms")
    : null;
  if (!integration) {
    logger.info({ requestId: request.id }, "privacy request notice kept in the SMS sandbox");
    return { channel: "sms", sent: false };
  }
  try {
    await integration.adapter.send({
      id: newId("dsr"),
      workspaceId: integration.workspaceId,
      to: phone,
      content: { channel: "sms", text: smsText(message) },
    });
    return { channel: "sms", sent: true };
  } catch (error) {
    logger.error({ err: error, requestId: request.id }, "privacy request SMS not sent");
    return { channel: "sms", sent: false };
  }
}
