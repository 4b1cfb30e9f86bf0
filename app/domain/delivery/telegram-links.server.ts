import { and, desc, eq, isNull } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { integrations } from "~/db/schema/control";
import { contacts, telegramLinks } from "~/db/schema/tenant";
import { NotFoundError } from "~/lib/errors";
import { randomToken } from "~/lib/tokens";
import type { WorkspaceContext } from "../context";

/**
 * Telegram deep links (t.me/<bot>?start=<token>): a bot cannot message anyone first, so a
 * person opens the link and presses Start; the webhook sees `/start <token>` and links that chat
 * (webhooks.server.ts, linkTelegramChat). The workspace-wide link makes a new contact per chat;
 * a contact's own link attaches the chat to that contact.
 */

export interface TelegramLink {
  token: string;
  /** The https://t.me/... link, or null until Test connection has learnt the bot's username. */
  url: string | null;
}

/**
 * The workspace's Telegram bot: null when Telegram is not connected; `username` is null until
 * Test connection has learnt it.
 */
export function telegramBot(workspaceId: string): { username: string | null } | null {
  const row = getControlDb()
    .select({ details: integrations.details })
    .from(integrations)
    .where(and(eq(integrations.workspaceId, workspaceId), eq(integrations.channel, "telegram")))
    .get();
  if (!row) return null;
  const details = JSON.parse(row.details) as Record<string, unknown>;
  const username = details.botUsername;
  return {
    username:
      typeof username === "string" && /^[A-Za-z0-9_]{3,64}$/.test(username) ? username : null,
  };
}

/** The connected bot's username (learnt by Test connection), or null. */
export function telegramBotUsername(workspaceId: string): string | null {
  return telegramBot(workspaceId)?.username ?? null;
}

function linkFor(workspaceId: string, token: string): TelegramLink {
  const bot = telegramBotUsername(workspaceId);
  return { token, url: bot ? `https://t.me/${bot}?start=${token}` : null };
}

/** The workspace-wide link (created on first use, then always the same). */
export function workspaceTelegramLink(ctx: WorkspaceContext): TelegramLink {
  const token = ctx.db.transaction(
    (tx) => {
      const existing = tx
        .select({ token: telegramLinks.token })
        .from(telegramLinks)
        .where(isNull(telegramLinks.contactId))
        .orderBy(desc(telegramLinks.createdAt))
        .get();
      if (existing) return existing.token;
      const fresh = randomToken(18);
      tx.insert(telegramLinks)
        .values({ token: fresh, contactId: null, createdAt: ctx.now() })
        .run();
      return fresh;
    },
    { behavior: "immediate" },
  );
  return linkFor(ctx.workspaceId, token);
}

/** A link for one contact: reuses their unused link, or makes a new one. */
export function contactTelegramLink(ctx: WorkspaceContext, contactId: number): TelegramLink {
  const token = ctx.db.transaction(
    (tx) => {
      const contact = tx
        .select({ id: contacts.id })
        .from(contacts)
        .where(eq(contacts.id, contactId))
        .get();
      if (!contact) throw new NotFoundError("Contact", contactId);
      const unused = tx
        .select({ token: telegramLinks.token })
        .from(telegramLinks)
        .where(and(eq(telegramLinks.contactId, contactId), isNull(telegramLinks.usedAt)))
        .orderBy(desc(telegramLinks.createdAt))
        .get();
      if (unused) return unused.token;
      const fresh = randomToken(18);
      tx.insert(telegramLinks).values({ token: fresh, contactId, createdAt: ctx.now() }).run();
      return fresh;
    },
    { behavior: "immediate" },
  );
  return linkFor(ctx.workspaceId, token);
}
