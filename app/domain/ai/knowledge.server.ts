import { asc, count, desc, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { kbSnippets } from "~/db/schema/tenant-inbox";
import { NotFoundError, ValidationError, validationErrorFromIssues } from "~/lib/errors";
import { recordAudit } from "../audit/audit.server";
import type { TenantContext, WorkspaceContext } from "../context";

/**
 * The workspace's knowledge base: short FAQ answers and facts ("snippets") that AI reply drafts
 * may draw on and cite. Searched with SQLite FTS5 (kb_snippets_fts, kept in step with
 * kb_snippets by triggers), ranked with bm25, title words counting double.
 */

export const SNIPPET_TITLE_MAX = 120;
export const SNIPPET_BODY_MAX = 4_000;
export const MAX_SNIPPETS = 2_000;
/** Words of a search taken into the query: enough for a few customer messages. */
const MAX_QUERY_WORDS = 40;

export interface Snippet {
  id: number;
  title: string;
  body: string;
  createdAt: Date;
  updatedAt: Date;
}

const text = (what: string, max: number) =>
  z
    .string({ error: `Enter a ${what}.` })
    // Control characters (other than line breaks and tabs) have no place in a snippet.
    .transform((v) =>
      v
        .replace(/\r\n?/g, "\n")
        .replace(/[^\P{Cc}\n\t]/gu, "")
        .trim(),
    )
    .pipe(
      z
        .string()
        .min(1, `Enter a ${what}.`)
        .max(max, `Keep the ${what} under ${max.toLocaleString("en-US")} characters.`),
    );

export const SnippetInput = z.object({
  title: text("title", SNIPPET_TITLE_MAX),
  body: text("text", SNIPPET_BODY_MAX),
});
export type SnippetInput = z.input<typeof SnippetInput>;

function parse(input: SnippetInput): z.output<typeof SnippetInput> {
  const result = SnippetInput.safeParse(input);
  if (result.success) return result.data;
  throw validationErrorFromIssues(result.error.issues);
}

export function listSnippets({ db }: TenantContext): Snippet[] {
  return db.select().from(kbSnippets).orderBy(asc(kbSnippets.title), asc(kbSnippets.id)).all();
}

export function countSnippets({ db }: TenantContext): number {
  return db.select({ n: count() }).from(kbSnippets).get()?.n ?? 0;
}

export function getSnippet({ db }: TenantContext, id: number): Snippet {
  const row = Number.isSafeInteger(id)
    ? db.select().from(kbSnippets).where(eq(kbSnippets.id, id)).get()
    : undefined;
  if (!row) throw new NotFoundError("Snippet", id);
  return row;
}

export function createSnippet(ctx: WorkspaceContext, input: SnippetInput): Snippet {
  const value = parse(input);
  const now = ctx.now();
  const created = ctx.db.transaction(
    (tx) => {
      const total = tx.select({ n: count() }).from(kbSnippets).get()?.n ?? 0;
      if (total >= MAX_SNIPPETS) {
        throw new ValidationError(
          `The knowledge base holds at most ${MAX_SNIPPETS.toLocaleString("en-US")} snippets. Delete ones you no longer need first.`,
        );
      }
      return tx
        .insert(kbSnippets)
        .values({ ...value, createdAt: now, updatedAt: now })
        .returning()
        .get();
    },
    { behavior: "immediate" },
  );
  recordAudit(ctx, {
    action: "knowledge.snippet_created",
    workspaceId: ctx.workspaceId,
    target: { type: "kb_snippet", id: created.id },
  });
  return created;
}

export function updateSnippet(ctx: WorkspaceContext, id: number, input: SnippetInput): Snippet {
  const value = parse(input);
  getSnippet(ctx, id);
  const updated = ctx.db
    .update(kbSnippets)
    .set({ ...value, updatedAt: ctx.now() })
    .where(eq(kbSnippets.id, id))
    .returning()
    .get();
  if (!updated) throw new NotFoundError("Snippet", id);
  recordAudit(ctx, {
    action: "knowledge.snippet_updated",
    workspaceId: ctx.workspaceId,
    target: { type: "kb_snippet", id },
  });
  return updated;
}

export function deleteSnippet(ctx: WorkspaceContext, id: number): Snippet {
  const snippet = getSnippet(ctx, id);
  ctx.db.delete(kbSnippets).where(eq(kbSnippets.id, id)).run();
  recordAudit(ctx, {
    action: "knowledge.snippet_deleted",
    workspaceId: ctx.workspaceId,
    target: { type: "kb_snippet", id },
    details: { title: snippet.title },
  });
  return snippet;
}

/**
 * Free text as an FTS5 query that cannot be a syntax error or an operator: each distinct word
 * (letters, combining marks and digits, so Devanagari or Tamil words stay whole) quoted, joined
 * with OR. Words of three or more characters match as prefixes, an English plural "s" dropped
 * first, so "refund" finds "refunds" and "refunds" finds "refund". Null when there are no words.
 */
export function toFtsQuery(input: string, maxWords = MAX_QUERY_WORDS): string | null {
  const terms: string[] = [];
  const seen = new Set<string>();
  for (const match of input.normalize("NFC").matchAll(/[\p{L}\p{M}\p{N}]+/gu)) {
    let word = match[0].toLowerCase();
    if (word.length > 3 && /^[a-z]+s$/.test(word) && !word.endsWith("ss")) word = word.slice(0, -1);
    if (seen.has(word)) continue;
    seen.add(word);
    terms.push(Array.from(word).length >= 3 ? `"${word}"*` : `"${word}"`);
    if (terms.length >= maxWords) break;
  }
  return terms.length ? terms.join(" OR ") : null;
}

/**
 * The snippets that best match a text (customer messages, or a search box), best first. Any
 * word matching counts; bm25 ranks rarer and title words higher.
 */
export function searchKnowledge({ db }: TenantContext, text: string, limit = 5): Snippet[] {
  const query = toFtsQuery(text);
  if (!query || limit <= 0) return [];
  const ids = db.all<{ id: number }>(
    sql`SELECT rowid AS id FROM kb_snippets_fts WHERE kb_snippets_fts MATCH ${query}
        ORDER BY bm25(kb_snippets_fts, 2.0, 1.0) LIMIT ${Math.min(limit, 50)}`,
  );
  if (ids.length === 0) return [];
  const rows = db
    .select()
    .from(kbSnippets)
    .where(sql`${kbSnippets.id} IN ${ids.map((r) => r.id)}`)
    .orderBy(desc(kbSnippets.updatedAt))
    .all();
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.flatMap((r) => byId.get(r.id) ?? []);
}
