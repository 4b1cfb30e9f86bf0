import { getEnv } from "~/lib/env.server";
import { startOfZonedDay } from "~/lib/time-zone";
import type { WorkspaceContext } from "../context";
import { aiConfigured } from "./claude.server";
import {
  CONTACT_FIELDS_NEVER_SENT,
  CONTACT_FIELDS_SENT,
  CONVERSATION_PARTS_NEVER_SENT,
  DRAFT_ATTRIBUTE_MAX_CHARS,
  DRAFT_HISTORY_MESSAGES,
  DRAFT_MAX_ATTRIBUTES,
  DRAFT_MESSAGE_MAX_CHARS,
  DRAFT_SEARCH_MESSAGES,
  DRAFT_SNIPPETS,
  REWRITE_MAX_CHARS,
} from "./draft-prompt.server";
import { draftRates, type DraftRates } from "./drafts.server";
import { inboxAiSettings } from "./inbox-context.server";
import { aiUsageSummary, type AiUsageSummary } from "./usage.server";

/**
 * "What the AI sees": the facts the settings page states about the inbox's AI, taken from the
 * constants the prompt builder itself uses, with the workspace's switches, this month's usage
 * and how the drafts were used.
 */

export const INBOX_AI_PURPOSES = ["reply-draft", "rewrite", "summary"] as const;

export interface WhatTheAiSees {
  limits: {
    historyMessages: number;
    messageMaxChars: number;
    snippets: number;
    searchMessages: number;
    maxAttributes: number;
    attributeMaxChars: number;
    rewriteMaxChars: number;
  };
  contactFieldsSent: readonly string[];
  contactFieldsNeverSent: readonly string[];
  conversationPartsNeverSent: readonly string[];
  enabled: boolean;
  autoDraft: boolean;
  configured: boolean;
  model: string;
  requestsPerHour: number;
  monthStart: Date;
  usage: AiUsageSummary;
  rates: DraftRates;
}

function startOfMonth(now: Date, timeZone: string): Date {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit" })
    .formatToParts(now)
    .reduce<Record<string, string>>((acc, p) => ({ ...acc, [p.type]: p.value }), {});
  return new Date(startOfZonedDay(Number(parts.year), Number(parts.month), 1, timeZone));
}

export function whatTheAiSees(ctx: WorkspaceContext): WhatTheAiSees {
  const env = getEnv();
  const settings = inboxAiSettings(ctx);
  const monthStart = startOfMonth(ctx.now(), ctx.workspace.timeZone);
  return {
    limits: {
      historyMessages: DRAFT_HISTORY_MESSAGES,
      messageMaxChars: DRAFT_MESSAGE_MAX_CHARS,
      snippets: DRAFT_SNIPPETS,
      searchMessages: DRAFT_SEARCH_MESSAGES,
      maxAttributes: DRAFT_MAX_ATTRIBUTES,
      attributeMaxChars: DRAFT_ATTRIBUTE_MAX_CHARS,
      rewriteMaxChars: REWRITE_MAX_CHARS,
    },
    contactFieldsSent: CONTACT_FIELDS_SENT,
    contactFieldsNeverSent: CONTACT_FIELDS_NEVER_SENT,
    conversationPartsNeverSent: CONVERSATION_PARTS_NEVER_SENT,
    enabled: settings.aiEnabled,
    autoDraft: settings.aiAutoDraft,
    configured: aiConfigured(),
    model: env.ANTHROPIC_MODEL,
    requestsPerHour: env.AI_INBOX_REQUESTS_PER_HOUR,
    monthStart,
    usage: aiUsageSummary(ctx.workspaceId, monthStart, INBOX_AI_PURPOSES),
    rates: draftRates(ctx, monthStart),
  };
}
