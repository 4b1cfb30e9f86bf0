import { randomUUID } from "node:crypto";
import { ValidationError } from "~/lib/errors";
import { normalisePhone } from "~/lib/phone";
import type { WorkspaceContext } from "../context";
import { integrationForChannel } from "./integrations.server";
import { applyPending, SANDBOX_EVENTS, storeEvents } from "./webhooks.server";

/**
 * "Try the inbox": while WhatsApp has no provider account connected (the sandbox), a member who
 * can reply may play a customer writing in. The message is stored as a simulated inbound
 * WhatsApp event, as the sandbox's simulated replies are, and applied at once by the same code
 * as a real webhook's: the contact is created or found, the conversation joined or opened, and
 * the live event published.
 */

export const SIMULATED_MESSAGE_MAX = 4096;
export const SIMULATED_NAME_MAX = 100;

/** Whether the workspace's WhatsApp is the sandbox (no provider account connected). */
export function whatsappIsSandbox(ctx: WorkspaceContext): boolean {
  return integrationForChannel(ctx.workspaceId, "whatsapp") === null;
}

export interface SimulatedCustomerMessage {
  phone: string;
  name?: string;
  message: string;
}

/**
 * Stores and applies one simulated customer message; returns the conversation it landed in
 * (null when the number is opted out of everything, so nothing opens). Refuses bad input before
 * storing anything, and refuses when a real WhatsApp account is connected.
 */
export function simulateCustomerMessage(
  ctx: WorkspaceContext,
  input: SimulatedCustomerMessage,
): { conversationId: number | null; phone: string } {
  const fieldErrors: Record<string, string[]> = {};
  const phone = normalisePhone(input.phone, ctx.workspace.country);
  if (!phone.ok) fieldErrors.phone = [phone.reason];
  const text = input.message.trim();
  if (text.length === 0) fieldErrors.message = ["Write the customer's message."];
  else if (text.length > SIMULATED_MESSAGE_MAX) {
    fieldErrors.message = [`The message is longer than ${SIMULATED_MESSAGE_MAX} characters.`];
  }
  const name = (input.name ?? "").trim();
  if (name.length > SIMULATED_NAME_MAX) {
    fieldErrors.name = [`The name is longer than ${SIMULATED_NAME_MAX} characters.`];
  }
  const first = Object.values(fieldErrors)[0];
  if (first) throw new ValidationError(first[0]!, fieldErrors);
  if (!whatsappIsSandbox(ctx)) {
    throw new ValidationError(
      "WhatsApp is connected to a real account: customer messages arrive from WhatsApp itself.",
    );
  }
  const e164 = (phone as { e164: string }).e164;
  const at = ctx.now().getTime();
  const providerMessageId = `sandbox_sim_${randomUUID()}`;
  ctx.db.$client.transaction(() => {
    storeEvents(
      ctx.db,
      SANDBOX_EVENTS,
      "whatsapp",
      [
        {
          type: "inbound",
          eventId: `${providerMessageId}:simulated`,
          from: e164,
          ...(name ? { name } : {}),
          text,
          at: new Date(at),
          providerMessageId,
        },
      ],
      at,
    );
  })();
  applyPending(ctx.db, ctx.workspaceId, () => ctx.now().getTime());
  const row = ctx.db.$client
    .prepare(
      `SELECT conversation_id AS id FROM inbound_messages
       WHERE channel = 'whatsapp' AND provider_message_id = ?`,
    )
    .get(providerMessageId) as { id: number | null } | undefined;
  return { conversationId: row?.id ?? null, phone: e164 };
}
