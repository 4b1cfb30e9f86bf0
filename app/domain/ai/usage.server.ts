import { and, eq, gte, inArray, sql } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { aiUsage } from "~/db/schema/control";

/**
 * Metering of AI requests in the control db (table ai_usage, owned by this area): who asked,
 * when, which model, for what (the channel), the tokens Anthropic counted and how it ended.
 * Never the prompt, the brief or the answer.
 */

export const AI_OUTCOMES = ["ok", "error", "rate_limited", "not_configured"] as const;
export type AiOutcome = (typeof AI_OUTCOMES)[number];

export interface AiUsageEntry {
  workspaceId: string;
  userId: string | null;
  at: Date;
  model: string;
  purpose: string;
  inputTokens: number;
  outputTokens: number;
  outcome: AiOutcome;
}

export function recordAiUsage(entry: AiUsageEntry): void {
  getControlDb()
    .insert(aiUsage)
    .values({
      workspaceId: entry.workspaceId,
      userId: entry.userId,
      at: entry.at,
      model: entry.model,
      purpose: entry.purpose,
      inputTokens: Math.max(0, Math.trunc(entry.inputTokens)),
      outputTokens: Math.max(0, Math.trunc(entry.outputTokens)),
      outcome: entry.outcome,
    })
    .run();
}

export interface AiUsageSummary {
  since: Date;
  /** Every request, whatever its outcome. */
  requests: number;
  inputTokens: number;
  outputTokens: number;
  byOutcome: Record<AiOutcome, number>;
  /** Requests per purpose (channel), e.g. { whatsapp: 12, sms: 3 }. */
  byPurpose: Record<string, number>;
}

/**
 * For a settings / usage view: the workspace's AI requests and tokens since a moment, of every
 * purpose or of the ones named.
 */
export function aiUsageSummary(
  workspaceId: string,
  since: Date,
  purposes?: readonly string[],
): AiUsageSummary {
  const rows = getControlDb()
    .select({
      outcome: aiUsage.outcome,
      purpose: aiUsage.purpose,
      requests: sql<number>`count(*)`,
      inputTokens: sql<number>`coalesce(sum(${aiUsage.inputTokens}), 0)`,
      outputTokens: sql<number>`coalesce(sum(${aiUsage.outputTokens}), 0)`,
    })
    .from(aiUsage)
    .where(
      and(
        eq(aiUsage.workspaceId, workspaceId),
        gte(aiUsage.at, since),
        purposes ? inArray(aiUsage.purpose, [...purposes]) : undefined,
      ),
    )
    .groupBy(aiUsage.outcome, aiUsage.purpose)
    .all();
  const summary: AiUsageSummary = {
    since,
    requests: 0,
    inputTokens: 0,
    outputTokens: 0,
    byOutcome: { ok: 0, error: 0, rate_limited: 0, not_configured: 0 },
    byPurpose: {},
  };
  for (const row of rows) {
    summary.requests += row.requests;
    summary.inputTokens += row.inputTokens;
    summary.outputTokens += row.outputTokens;
    if ((AI_OUTCOMES as readonly string[]).includes(row.outcome)) {
      summary.byOutcome[row.outcome as AiOutcome] += row.requests;
    }
    summary.byPurpose[row.purpose] = (summary.byPurpose[row.purpose] ?? 0) + row.requests;
  }
  return summary;
}

/**
 * For account erasure: the requests stay (they are the workspace's metering) but no longer say
 * who made them. Returns the rows changed.
 */
export function forgetAiUsageUser(userId: string): number {
  return getControlDb()
    .update(aiUsage)
    .set({ userId: null })
    .where(eq(aiUsage.userId, userId))
    .run().changes;
}
