/**
 * The inbox bench's list and page queries on raw better-sqlite3 (the limit), and the plug-in
 * point where the conversations domain's functions take the "ours" side.
 */
import type { Database } from "better-sqlite3";
import type { InboxSeed } from "./inbox-seed";

export interface ListInput {
  view: "all" | "mine" | "unassigned" | "team";
  status: "open" | "pending" | "snoozed" | "resolved";
  order: "newest" | "oldest";
  assigneeId?: string;
  teamId?: number;
  /** Text search over what customers wrote, or a contact name prefix. */
  search?: { text: string } | { contact: string };
}
export interface ThreadInput {
  conversationId: number;
}
export type ScenarioInput = ListInput | ThreadInput;

export interface Scenario<I extends ScenarioInput = ScenarioInput> {
  input: I;
  /** What sort of query, for the per-kind breakdown. */
  kind: string;
  raw: () => unknown;
}

export function percentile(times: number[], p: number): number | null {
  if (times.length === 0) return null;
  const sorted = [...times].sort((a, b) => a - b);
  return Number(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!.toFixed(2));
}

const PAGE = 50;
const LIST_COLUMNS = `c.id, c.status, c.assignee_id, c.team_id, c.last_message_at, c.waiting_since,
  c.preview, c.snoozed_until, ct.name, ct.phone, ct.email,
  (SELECT group_concat(label_id) FROM conversation_labels WHERE conversation_id = c.id) AS labels`;

function listSql(input: ListInput): { sql: string; params: unknown[] } {
  const where = ["c.status = ?"];
  const params: unknown[] = [input.status];
  if (input.view === "mine") {
    where.push("c.assignee_id = ?");
    params.push(input.assigneeId);
  } else if (input.view === "team") {
    where.push("c.team_id = ?");
    params.push(input.teamId);
  } else if (input.view === "unassigned") {
    where.push("c.assignee_id IS NULL AND c.team_id IS NULL");
  }
  if (input.search && "text" in input.search) {
    where.push(`c.id IN (SELECT conversation_id FROM inbound_messages WHERE id IN
      (SELECT rowid FROM inbound_messages_fts WHERE inbound_messages_fts MATCH ?))`);
    params.push(input.search.text);
  } else if (input.search) {
    where.push("ct.name_key LIKE ? ESCAPE '\\'");
    params.push(`${input.search.contact}%`);
  }
  const order = input.order === "newest" ? "DESC" : "ASC";
  return {
    sql: `SELECT ${LIST_COLUMNS} FROM conversations c JOIN contacts ct ON ct.id = c.contact_id
          WHERE ${where.join(" AND ")} ORDER BY c.last_message_at ${order} LIMIT ${PAGE}`,
    params,
  };
}

/** Every view × status × order, for several agents and teams, and some searches. */
export function listScenarios(db: Database, seed: InboxSeed): Scenario<ListInput>[] {
  const out: Scenario<ListInput>[] = [];
  const statuses = ["open", "pending", "snoozed", "resolved"] as const;
  const views = ["all", "mine", "unassigned", "team"] as const;
  for (let round = 0; round < 6; round++) {
    for (const view of views) {
      for (const status of statuses) {
        for (const order of ["newest", "oldest"] as const) {
          out.push(
            scenario(db, {
              view,
              status,
              order,
              assigneeId: seed.agents[(round * 7) % seed.agents.length],
              teamId: seed.teams[round % seed.teams.length],
            }),
          );
        }
      }
    }
  }
  const texts = ["refund", "delivery tomorrow", "invoice", "kab milega", "coupon"];
  for (let i = 0; i < 20; i++) {
    const search =
      i % 2 === 0 ? { text: texts[i % texts.length]! } : { contact: `customer ${i * 37}` };
    out.push(
      scenario(db, {
        view: "all",
        status: i % 4 === 0 ? "resolved" : "open",
        order: "newest",
        search,
      }),
    );
  }
  return out;
}

function scenario(db: Database, input: ListInput): Scenario<ListInput> {
  const { sql, params } = listSql(input);
  const statement = db.prepare(sql);
  const kind = input.search
    ? "text" in input.search
      ? `search-text-${input.status}`
      : `search-contact-${input.status}`
    : `${input.view}-${input.status}-${input.order}`;
  return { input, kind, raw: () => statement.all(...params) };
}

/** The conversation page: the conversation with its contact, and the newest 50 thread items. */
export function threadScenarios(db: Database, seed: InboxSeed): Scenario<ThreadInput>[] {
  const header = db.prepare(
    `SELECT c.*, ct.name, ct.phone, ct.email, ct.attributes FROM conversations c
     JOIN contacts ct ON ct.id = c.contact_id WHERE c.id = ?`,
  );
  const items = db.prepare(
    `SELECT * FROM (
       SELECT 'in' AS kind, i.id AS id, i.at AS at, i.text AS body, NULL AS author_id,
         NULL AS status, i.campaign_id AS campaign_id
       FROM inbound_messages i WHERE i.conversation_id = ?
       UNION ALL
       SELECT 'out', m.id, m.created_at, mc.content, m.author_id, m.status, m.campaign_id
       FROM messages m LEFT JOIN message_contents mc ON mc.message_id = m.id
       WHERE m.conversation_id = ?
       UNION ALL
       SELECT a.kind, a.id, a.at, a.body, a.actor_id, NULL, NULL
       FROM conversation_activity a WHERE a.conversation_id = ?
     ) ORDER BY at DESC LIMIT ${PAGE}`,
  );
  const out: Scenario<ThreadInput>[] = [];
  for (let k = 0; k < 200; k++) {
    const conversationId = ((k * 7919) % seed.conversations) + 1;
    out.push({
      input: { conversationId },
      kind: "thread",
      raw: () => [
        header.get(conversationId),
        items.all(conversationId, conversationId, conversationId),
      ],
    });
  }
  return out;
}

/**
 * The conversations domain's functions on the same file: `listConversations` (the owner for the
 * all, unassigned and team views; the agent, with their teams, for "mine") and
 * `conversationThread`.
 */
export async function oursFor(
  name: "list" | "page",
  seed: InboxSeed,
): Promise<((input: ScenarioInput) => unknown) | null> {
  const { listConversations } = await import("~/domain/inbox/conversations.server");
  const { conversationThread } = await import("~/domain/inbox/thread.server");
  const { loadInboxMember } = await import("~/domain/inbox/members.server");
  const { openWorkspaceContext } = await import("~/domain/workspaces/access.server");
  const { findUserByEmail } = await import("~/domain/accounts/users.server");
  const owner = findUserByEmail(seed.ownerEmail);
  if (!owner) throw new Error("the seeded owner is missing");
  const ctx = openWorkspaceContext(seed.workspaceId, { type: "user", id: owner.id }, {});
  if (name === "page") {
    return (input) => conversationThread(ctx, (input as ThreadInput).conversationId);
  }
  const ownerMember = loadInboxMember(ctx, owner.id, "owner");
  const agents = new Map(seed.agents.map((id) => [id, loadInboxMember(ctx, id, "agent")]));
  return (input) => {
    const list = input as ListInput;
    const member = list.view === "mine" ? agents.get(list.assigneeId!)! : ownerMember;
    return listConversations(ctx, member, {
      view: list.view === "team" ? { teamId: list.teamId! } : list.view,
      status: list.status,
      order: list.order === "oldest" ? "oldest-waiting" : "newest",
      q: list.search ? ("text" in list.search ? list.search.text : list.search.contact) : undefined,
    });
  };
}
