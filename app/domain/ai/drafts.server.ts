import { and, desc, eq, gte, inArray, isNotNull, sql } from "drizzle-orm";
import type { TextGenerationResult } from "~/channels/anthropic/client.server";
import { aiDrafts, kbSnippets, type AiDraftStatus } from "~/db/schema/tenant-inbox";
import { withTenantDb, type TenantDb, type TenantTx } from "~/db/tenants.server";
import { getEnv, type Env } from "~/lib/env.server";
import { AppError, NotFoundError, RateLimitedError, ValidationError } from "~/lib/errors";
import { logger } from "~/lib/logger.server";
import type { WorkspaceContext } from "../context";
import { publishInboxEvent } from "../inbox/live.server";
import {
  aiConfigured,
  asProviderError,
  providerFailureToAppError,
  takeAiRequest,
  workspaceName,
  type AiBudget,
  type AiRequestTicket,
} from "./claude.server";
import {
  buildDraftPrompt,
  DRAFT_HISTORY_MESSAGES,
  DRAFT_SEARCH_MESSAGES,
  DRAFT_SNIPPETS,
  parseDraftAnswer,
  type DraftPrompt,
} from "./draft-prompt.server";
import {
  assertAiEnabled,
  conversationForAi,
  conversationMessages,
  inboxAiSettings,
} from "./inbox-context.server";
import { searchKnowledge } from "./knowledge.server";

/**
 * AI reply drafts. A draft is a row in ai_drafts: "pending" while Claude writes, then "ready"
 * (or "failed"), and closed as "sent" (a member sent it, edited or not) or "discarded". Drafts
 * are never sent by themselves. A member's reply or takeover discards open drafts in the
 * database itself (triggers), and completion only writes to a row still "pending", so a draft
 * that finishes after a human answered stays discarded.
 */

export const INBOX_AI_FEATURE = "The inbox's AI";

export function inboxAiBudget(env: Env = getEnv()): AiBudget {
  return { name: "ai-inbox", perHour: env.AI_INBOX_REQUESTS_PER_HOUR, label: "inbox AI" };
}

export interface DraftCitation {
  id: number;
  /** null: the snippet has been deleted since. */
  title: string | null;
}

export interface AiDraft {
  id: number;
  conversationId: number;
  status: AiDraftStatus;
  requestedBy: string | null;
  body: string;
  citations: DraftCitation[];
  error: string | null;
  edited: boolean | null;
  discardReason: string | null;
  createdAt: Date;
  completedAt: Date | null;
  closedAt: Date | null;
}

export interface DraftHandle {
  draftId: number;
  /** Settles (never rejects) when the draft is ready, failed, or found closed meanwhile. */
  done: Promise<void>;
}

/** Generations running in this process, by workspace and draft id. */
const running = new Map<string, Promise<void>>();
const runKey = (workspaceId: string, draftId: number) => `${workspaceId}:${draftId}`;

const log = logger.child({ area: "ai-drafts" });

type DraftRow = typeof aiDrafts.$inferSelect;

function citationIds(json: string): number[] {
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) ? parsed.filter((n): n is number => Number.isSafeInteger(n)) : [];
  } catch {
    return [];
  }
}

function toDrafts(db: TenantDb | TenantTx, rows: DraftRow[]): AiDraft[] {
  const ids = [...new Set(rows.flatMap((r) => citationIds(r.citations)))];
  const titles = new Map(
    ids.length
      ? db
          .select({ id: kbSnippets.id, title: kbSnippets.title })
          .from(kbSnippets)
          .where(inArray(kbSnippets.id, ids))
          .all()
          .map((s) => [s.id, s.title])
      : [],
  );
  return rows.map((r) => ({
    id: r.id,
    conversationId: r.conversationId,
    status: r.status,
    requestedBy: r.requestedBy,
    body: r.body,
    citations: citationIds(r.citations).map((id) => ({ id, title: titles.get(id) ?? null })),
    error: r.error,
    edited: r.edited,
    discardReason: r.discardReason,
    createdAt: r.createdAt,
    completedAt: r.completedAt,
    closedAt: r.closedAt,
  }));
}

export function getDraft(ctx: { db: TenantDb | TenantTx }, draftId: number): AiDraft {
  const row = Number.isSafeInteger(draftId)
    ? ctx.db.select().from(aiDrafts).where(eq(aiDrafts.id, draftId)).get()
    : undefined;
  if (!row) throw new NotFoundError("Draft", draftId);
  return toDrafts(ctx.db, [row])[0]!;
}

/** The conversation's newest draft, whatever its state (null: none yet). */
export function latestDraft(ctx: { db: TenantDb }, conversationId: number): AiDraft | null {
  const row = ctx.db
    .select()
    .from(aiDrafts)
    .where(eq(aiDrafts.conversationId, conversationId))
    .orderBy(desc(aiDrafts.id))
    .limit(1)
    .get();
  return row ? toDrafts(ctx.db, [row])[0]! : null;
}

function publishDraft(workspaceId: string, conversationId: number, draftId: number): void {
  publishInboxEvent(workspaceId, { type: "draft", conversationId, draftId, at: Date.now() });
}

function failureReason(error: AppError, kind: string): string {
  if (kind === "timeout") return "Claude did not answer in time. Try again.";
  return error.message;
}

/** Writes a generation's end, only onto a row still pending. Returns whether it landed. */
async function finish(
  ctx: WorkspaceContext,
  draftId: number,
  values: Partial<typeof aiDrafts.$inferInsert> & { status: "ready" | "failed" },
): Promise<boolean> {
  try {
    return await withTenantDb(ctx.workspaceId, (db) => {
      const at = ctx.now();
      const changed = db
        .update(aiDrafts)
        .set({
          ...values,
          completedAt: at,
          ...(values.status === "failed" ? { closedAt: at } : {}),
        })
        .where(and(eq(aiDrafts.id, draftId), eq(aiDrafts.status, "pending")))
        .run().changes;
      return changed > 0;
    });
  } catch (error) {
    // The workspace was deleted meanwhile, or its file is unreadable: nothing to write to.
    log.warn({ err: error, workspaceId: ctx.workspaceId, draftId }, "AI draft result not stored");
    return false;
  }
}

async function generate(
  ctx: WorkspaceContext,
  draft: { id: number; conversationId: number },
  prompt: DraftPrompt,
  ticket: AiRequestTicket,
): Promise<void> {
  const { generator, record } = ticket;
  let result: TextGenerationResult;
  try {
    result = await generator.generate(prompt);
  } catch (error) {
    const failure = asProviderError(error, "AI draft");
    record("error", generator.model, failure.usage);
    log.warn({ kind: failure.kind, status: failure.status }, "AI draft request failed");
    const shown = providerFailureToAppError(failure, generator.model, {
      feature: INBOX_AI_FEATURE,
      badRequest: "Claude could not write a draft for this conversation.",
    });
    await finish(ctx, draft.id, {
      status: "failed",
      error: failureReason(shown, failure.kind),
      inputTokens: failure.usage.inputTokens,
      outputTokens: failure.usage.outputTokens,
    });
    return;
  }
  const { body, citations } = parseDraftAnswer(result.text, prompt.offeredSnippetIds);
  const tokens = { inputTokens: result.usage.inputTokens, outputTokens: result.usage.outputTokens };
  if (result.stopReason === "refusal" || body === "") {
    record("error", result.model, result.usage);
    await finish(ctx, draft.id, {
      status: "failed",
      model: result.model,
      error:
        result.stopReason === "refusal"
          ? "Claude declined to draft this reply."
          : "Claude's answer was empty. Try again.",
      ...tokens,
    });
    return;
  }
  record("ok", result.model, result.usage);
  await finish(ctx, draft.id, {
    status: "ready",
    body,
    citations: JSON.stringify(citations),
    model: result.model,
    ...tokens,
  });
}

/**
 * Asks Claude for a reply draft for the conversation. The "pending" row exists when this
 * returns; the generation runs on (`done`), and a draft already being written for the
 * conversation is returned instead of starting another. A ready draft is replaced.
 * `requestedBy` is the member who asked, null for an automatic draft. Throws AiDisabledError,
 * AiNotConfiguredError (409), RateLimitedError (429), NotFoundError, ValidationError.
 */
export function requestDraft(
  ctx: WorkspaceContext,
  conversationId: number,
  requestedBy: string | null,
): DraftHandle {
  assertAiEnabled(ctx);
  const conversation = conversationForAi(ctx, conversationId);
  const open = ctx.db
    .select({ id: aiDrafts.id, status: aiDrafts.status })
    .from(aiDrafts)
    .where(and(eq(aiDrafts.conversationId, conversationId), inArray(aiDrafts.status, ["pending"])))
    .all();
  for (const row of open) {
    const inFlight = running.get(runKey(ctx.workspaceId, row.id));
    if (inFlight) return { draftId: row.id, done: inFlight };
  }
  const messages = conversationMessages(ctx, conversationId, DRAFT_HISTORY_MESSAGES);
  if (messages.length === 0) {
    throw new ValidationError(
      "There is nothing to reply to yet: the conversation has no messages.",
    );
  }

  const ticket = takeAiRequest(ctx, {
    userId: requestedBy,
    purpose: "reply-draft",
    budget: inboxAiBudget(),
    feature: INBOX_AI_FEATURE,
  });
  const customerWords = messages
    .filter((m) => m.from === "customer")
    .slice(-DRAFT_SEARCH_MESSAGES)
    .map((m) => m.text)
    .join("\n");
  const prompt = buildDraftPrompt({
    workspaceName: workspaceName(ctx.workspaceId),
    channel: conversation.channel,
    contact: conversation.contact,
    messages,
    snippets: searchKnowledge(ctx, customerWords, DRAFT_SNIPPETS),
  });

  const now = ctx.now();
  const draftId = ctx.db.transaction(
    (tx) => {
      // One open draft per conversation: a ready one, or a pending one whose process is gone.
      tx.update(aiDrafts)
        .set({ status: "discarded", discardReason: "Replaced by a new draft", closedAt: now })
        .where(
          and(
            eq(aiDrafts.conversationId, conversationId),
            inArray(aiDrafts.status, ["pending", "ready"]),
          ),
        )
        .run();
      return tx
        .insert(aiDrafts)
        .values({ conversationId, status: "pending", requestedBy, createdAt: now })
        .returning({ id: aiDrafts.id })
        .get().id;
    },
    { behavior: "immediate" },
  );
  publishDraft(ctx.workspaceId, conversationId, draftId);

  const key = runKey(ctx.workspaceId, draftId);
  const done = generate(ctx, { id: draftId, conversationId }, prompt, ticket)
    .catch((error: unknown) => log.error({ err: error, draftId }, "AI draft generation crashed"))
    .finally(() => {
      running.delete(key);
      publishDraft(ctx.workspaceId, conversationId, draftId);
    });
  running.set(key, done);
  return { draftId, done };
}

/**
 * For the inbound path, after a customer message joined the conversation: requests a draft
 * when the workspace has AI and automatic drafts on, Claude is configured, and the
 * conversation has no pending or ready draft. Returns null when it does not (the hourly limit
 * reached included, which is metered); never fails the caller for a refusal.
 */
export function autoDraftAfterCustomerMessage(
  ctx: WorkspaceContext,
  conversationId: number,
): DraftHandle | null {
  const settings = inboxAiSettings(ctx);
  if (!settings.aiEnabled || !settings.aiAutoDraft || !aiConfigured()) return null;
  const open = ctx.db
    .select({ id: aiDrafts.id })
    .from(aiDrafts)
    .where(
      and(
        eq(aiDrafts.conversationId, conversationId),
        inArray(aiDrafts.status, ["pending", "ready"]),
      ),
    )
    .get();
  if (open) return null;
  try {
    return requestDraft(ctx, conversationId, null);
  } catch (error) {
    if (error instanceof RateLimitedError || (error instanceof AppError && error.status < 500)) {
      log.info({ code: (error as AppError).code, conversationId }, "automatic draft skipped");
      return null;
    }
    throw error;
  }
}

/** What markDraftSent needs: the db or a transaction on it, the workspace and a clock. */
export interface DraftTxContext {
  db: TenantDb | TenantTx;
  workspaceId: string;
  now(): Date;
}

const normalise = (text: string) => text.replace(/\r\n?/g, "\n").trim();

/**
 * Records that a member sent a ready draft (`finalText` is what was sent; `edited` when it
 * differs). Runs inside the caller's transaction: call it BEFORE inserting the reply's
 * messages row, because that insert discards every open draft of the conversation (trigger).
 * Returns sent: false when the draft was not ready any more (discarded by someone else's
 * reply, or replaced); the caller decides whether to send anyway.
 */
export function markDraftSent(
  ctx: DraftTxContext,
  draftId: number,
  finalText: string,
): { sent: boolean; edited: boolean } {
  const draft = ctx.db.select().from(aiDrafts).where(eq(aiDrafts.id, draftId)).get();
  if (!draft) throw new NotFoundError("Draft", draftId);
  const edited = normalise(finalText) !== normalise(draft.body);
  const changed = ctx.db
    .update(aiDrafts)
    .set({ status: "sent", edited, closedAt: ctx.now() })
    .where(and(eq(aiDrafts.id, draftId), eq(aiDrafts.status, "ready")))
    .run().changes;
  if (changed > 0) {
    // better-sqlite3 transactions are synchronous: this runs after the caller's commit.
    queueMicrotask(() => publishDraft(ctx.workspaceId, draft.conversationId, draftId));
  }
  return { sent: changed > 0, edited };
}

/**
 * A member dismissed the draft (or it is being written and they no longer want it). A draft
 * already closed is left as it is. With `conversationId`, a draft of another conversation is
 * not found.
 */
export function discardDraft(
  ctx: WorkspaceContext,
  draftId: number,
  by: string | null,
  options: { conversationId?: number } = {},
): AiDraft {
  const draft = getDraft(ctx, draftId);
  if (options.conversationId !== undefined && draft.conversationId !== options.conversationId) {
    throw new NotFoundError("Draft", draftId);
  }
  const changed = ctx.db
    .update(aiDrafts)
    .set({
      status: "discarded",
      discardReason: by ? "Dismissed by a member" : "Dismissed",
      closedAt: ctx.now(),
    })
    .where(and(eq(aiDrafts.id, draftId), inArray(aiDrafts.status, ["pending", "ready"])))
    .run().changes;
  if (changed > 0) publishDraft(ctx.workspaceId, draft.conversationId, draftId);
  return getDraft(ctx, draftId);
}

export interface DraftRates {
  since: Date;
  /** Sent as Claude wrote them. */
  accepted: number;
  /** Sent after a member changed them. */
  edited: number;
  /** Dismissed, replaced, or overtaken by a member's own reply or takeover. */
  discarded: number;
  /** Claude failed (busy, timeout, unusable answer): not counted in the rates. */
  failed: number;
  /** accepted + edited + discarded. */
  total: number;
  /** Shares of `total`, 0–1; null while there is none. */
  acceptedRate: number | null;
  editedRate: number | null;
  discardedRate: number | null;
}

/** How the drafts closed since a moment were used. */
export function draftRates({ db }: { db: TenantDb }, since: Date): DraftRates {
  const rows = db
    .select({ status: aiDrafts.status, edited: aiDrafts.edited, n: sql<number>`count(*)` })
    .from(aiDrafts)
    .where(and(isNotNull(aiDrafts.closedAt), gte(aiDrafts.closedAt, since)))
    .groupBy(aiDrafts.status, aiDrafts.edited)
    .all();
  const count = (status: AiDraftStatus, edited?: boolean) =>
    rows
      .filter((r) => r.status === status && (edited === undefined || Boolean(r.edited) === edited))
      .reduce((sum, r) => sum + r.n, 0);
  const accepted = count("sent", false);
  const edited = count("sent", true);
  const discarded = count("discarded");
  const total = accepted + edited + discarded;
  const rate = (n: number) => (total === 0 ? null : n / total);
  return {
    since,
    accepted,
    edited,
    discarded,
    failed: count("failed"),
    total,
    acceptedRate: rate(accepted),
    editedRate: rate(edited),
    discardedRate: rate(discarded),
  };
}

export interface ConversationAiState {
  /** The workspace's switch (inbox settings). */
  enabled: boolean;
  autoDraft: boolean;
  /** ANTHROPIC_API_KEY is set on this server. */
  configured: boolean;
  draft: AiDraft | null;
}

/** What the conversation page shows of AI: the switches and the newest draft. 404 if missing. */
export function conversationAiState(
  ctx: WorkspaceContext,
  conversationId: number,
): ConversationAiState {
  conversationForAi(ctx, conversationId);
  const settings = inboxAiSettings(ctx);
  return {
    enabled: settings.aiEnabled,
    autoDraft: settings.aiAutoDraft,
    configured: aiConfigured(),
    draft: latestDraft(ctx, conversationId),
  };
}
