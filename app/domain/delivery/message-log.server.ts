import { MESSAGE_STATUSES, type MessageStatus } from "~/db/schema/tenant";
import { isChannel } from "~/lib/channels";
import { csvLine } from "~/lib/csv";
import { recordAudit } from "../audit/audit.server";
import type { WorkspaceContext } from "../context";
import { listMessages } from "./outbox.server";

/**
 * The message log's filters from its address (?channel=&status=&campaign=&sandbox=1), read
 * leniently: a value that is not one of the menu's is reported, never a 500.
 */
export function readMessageLogFilters(params: URLSearchParams): {
  filters: MessageLogFilters;
  problem: string | null;
} {
  const filters: MessageLogFilters = {};
  let problem: string | null = null;
  if (["1", "on", "true"].includes(params.get("sandbox") ?? "")) filters.sandbox = true;
  const channel = params.get("channel") ?? "";
  if (isChannel(channel)) filters.channel = channel;
  else if (channel) problem = "That channel filter is not valid. Choose one from the menu.";
  const status = params.get("status") ?? "";
  if ((MESSAGE_STATUSES as readonly string[]).includes(status)) {
    filters.status = status as MessageStatus;
  } else if (status) problem = "That status filter is not valid. Choose one from the menu.";
  const campaign = params.get("campaign") ?? "";
  if (/^[1-9]\d{0,14}$/.test(campaign)) filters.campaignId = Number(campaign);
  else if (campaign) problem = "That campaign filter is not valid. Choose one from the menu.";
  return { filters, problem };
}

/**
 * The message log as CSV, with the same filters as the page, newest first. Read a page at a
 * time while the response streams, so a long history never sits in memory. Formula-like
 * cells are defused by csvLine. Recipients are personal data: the export is audited with its
 * filters (never with the addresses).
 */

export type MessageLogFilters = Omit<
  NonNullable<Parameters<typeof listMessages>[1]>,
  "before" | "limit" | "contactId"
>;

export const MESSAGE_LOG_COLUMNS = [
  "created_at",
  "channel",
  "recipient",
  "contact_id",
  "campaign_id",
  "kind",
  "status",
  "sandbox",
  "sent_at",
  "delivered_at",
  "read_at",
  "failed_at",
  "reason",
] as const;

const PAGE = 500;
const iso = (d: Date | null) => (d ? d.toISOString() : "");

function* lines(ctx: WorkspaceContext, filters: MessageLogFilters): Generator<string> {
  yield csvLine(MESSAGE_LOG_COLUMNS);
  let before: string | null = null;
  for (;;) {
    const page = listMessages(ctx, { ...filters, before, limit: PAGE });
    let chunk = "";
    for (const m of page.rows) {
      chunk += csvLine([
        m.createdAt.toISOString(),
        m.channel,
        m.recipient,
        m.contactId,
        m.campaignId,
        m.kind,
        m.status,
        m.integrationId === null ? "yes" : "no",
        iso(m.sentAt),
        iso(m.deliveredAt),
        iso(m.readAt),
        iso(m.failedAt),
        m.error,
      ]);
    }
    if (chunk) yield chunk;
    if (!page.nextCursor) return;
    before = page.nextCursor;
  }
}

export function exportMessageLogCsv(
  ctx: WorkspaceContext,
  filters: MessageLogFilters,
): Generator<string> {
  recordAudit(ctx, {
    action: "messages.exported",
    workspaceId: ctx.workspaceId,
    target: { type: "workspace", id: ctx.workspaceId },
    details: {
      format: "csv",
      ...(filters.channel ? { channel: filters.channel } : {}),
      ...(filters.status ? { status: filters.status } : {}),
      ...(filters.campaignId !== undefined ? { campaignId: filters.campaignId } : {}),
      ...(filters.sandbox ? { sandbox: true } : {}),
    },
  });
  return lines(ctx, filters);
}
