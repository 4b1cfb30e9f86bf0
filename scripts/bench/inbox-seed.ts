/**
 * The inbox bench's workspace: CONVERSATIONS conversations (one per contact, on one WhatsApp
 * integration) and MESSAGES messages split evenly between inbound and outbound, all with
 * conversation_id set, over the last 90 days, with teams, assignees and labels. Raw SQL in big
 * transactions; the whole data dir is cached under the temp dir, keyed by the migration count
 * and the sizes, so later runs start from a copy in seconds.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface InboxSeed {
  workspaceId: string;
  slug: string;
  integrationId: string;
  ownerEmail: string;
  ownerPassword: string;
  appSecret: string;
  phoneNumberId: string;
  conversations: number;
  messages: number;
  agents: string[];
  teams: number[];
  seedSeconds: number;
  cached: boolean;
}

export const APP_SECRET = "bench-app-secret";
export const PHONE_NUMBER_ID = "106540352242922";
const DAY = 86_400_000;
const SEED_VERSION = 2;

/** Conversation i (0-based) has id i + 1; its contact's number. */
export const phoneOf = (i: number) => `+9198${String(i).padStart(8, "0")}`;

/** Status by position: 25% open, 10% pending, 5% snoozed, 60% resolved. */
export function statusOf(i: number): "open" | "pending" | "snoozed" | "resolved" {
  const r = i % 20;
  return r < 5 ? "open" : r < 7 ? "pending" : r < 8 ? "snoozed" : "resolved";
}

const WORDS = (
  "hello order delivery refund price size colour available tomorrow payment invoice address " +
  "cancel exchange coupon discount shipping track status thanks please help urgent store " +
  "namaste kitna paisa kab milega dhanyavaad bhai"
).split(" ");

function sentence(seed: number, length: number): string {
  const out: string[] = [];
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out.push(WORDS[x % WORDS.length]!);
  }
  return out.join(" ");
}

function migrationCount(): number {
  const count = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".sql")).length;
  return count("drizzle/tenant") * 1000 + count("drizzle/control");
}

/**
 * A data dir at `dataDir` holding the seeded workspace. Must run before the app's modules open
 * any database in this process (they read DATA_DIR).
 */
export async function seedInbox(
  dataDir: string,
  conversations: number,
  messages: number,
): Promise<InboxSeed> {
  const key = `m${migrationCount()}-c${conversations}-m${messages}-v${SEED_VERSION}`;
  const cache = join(tmpdir(), "engage-bench-inbox-cache", key);
  if (existsSync(join(cache, "seed.json"))) {
    const started = performance.now();
    cpSync(join(cache, "data"), dataDir, { recursive: true });
    const seed = JSON.parse(readFileSync(join(cache, "seed.json"), "utf8")) as InboxSeed;
    return { ...seed, cached: true, seedSeconds: (performance.now() - started) / 1000 };
  }
  const started = performance.now();
  const { createVerifiedUser, createWorkspaceFor } = await import("../../tests/support/accounts");
  const { openWorkspaceContext } = await import("~/domain/workspaces/access.server");
  const { saveIntegration } = await import("~/domain/delivery/integrations.server");
  const { closeAllTenantDbs } = await import("~/db/tenants.server");
  const { closeControlDb } = await import("~/db/control.server");

  const owner = await createVerifiedUser({ name: "Bench Owner" });
  const workspace = createWorkspaceFor(owner, { country: "IN" });
  const ctx = openWorkspaceContext(workspace.id, { type: "user", id: owner.id }, {});
  const integrationId = saveIntegration(ctx, workspace.id, "whatsapp", {
    phoneNumberId: PHONE_NUMBER_ID,
    wabaId: "102290129340398",
    accessToken: "bench-token",
    appSecret: APP_SECRET,
    verifyToken: "bench-verify",
  }).id;

  const db = ctx.db.$client;
  db.pragma("synchronous = OFF");
  const now = Date.now();
  const agents = Array.from({ length: 20 }, (_, i) => `bench_agent_${i}`);
  const teams: number[] = [];
  db.transaction(() => {
    for (const name of ["Sales", "Support", "Returns", "VIP"]) {
      const id = (
        db
          .prepare("INSERT INTO teams (name, created_at) VALUES (?, ?) RETURNING id")
          .get(name, now) as {
          id: number;
        }
      ).id;
      teams.push(id);
    }
    agents.forEach((agent, i) => {
      db.prepare("INSERT INTO team_members (team_id, user_id) VALUES (?, ?)").run(
        teams[i % 4],
        agent,
      );
    });
    for (const [i, name] of [
      "vip",
      "refund",
      "bug",
      "order",
      "lead",
      "spam",
      "b2b",
      "urgent",
    ].entries()) {
      db.prepare("INSERT INTO labels (id, name, created_at) VALUES (?, ?, ?)").run(
        i + 1,
        name,
        now,
      );
    }
  })();

  // Bulk load: indexes and the search trigger come back after the rows (the index is rebuilt
  // in one pass), which is many times faster than maintaining them row by row.
  const deferred = db
    .prepare(
      `SELECT name, type, sql FROM sqlite_master WHERE sql IS NOT NULL
         AND tbl_name IN ('messages', 'inbound_messages', 'conversations', 'contacts')
         AND (type = 'index' OR (type = 'trigger' AND name LIKE 'inbound_messages_fts_%'))`,
    )
    .all() as { name: string; type: string; sql: string }[];
  for (const d of deferred) db.exec(`DROP ${d.type.toUpperCase()} "${d.name}"`);

  const perConversation = Math.max(2, Math.round(messages / conversations));
  const contact = db.prepare(
    `INSERT INTO contacts (id, phone, name, name_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const conversation = db.prepare(
    `INSERT INTO conversations (id, contact_id, channel, account_key, status, assignee_id, team_id,
       snoozed_until, waiting_since, last_message_at, last_inbound_at, preview, first_response_at,
       resolved_at, created_at, updated_at)
     VALUES (?, ?, 'whatsapp', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const label = db.prepare(
    "INSERT INTO conversation_labels (conversation_id, label_id) VALUES (?, ?)",
  );
  const inbound = db.prepare(
    `INSERT INTO inbound_messages (contact_id, channel, integration_id, sender, text,
       provider_message_id, at, conversation_id) VALUES (?, 'whatsapp', ?, ?, ?, ?, ?, ?)`,
  );
  const outbound = db.prepare(
    `INSERT INTO messages (id, contact_id, channel, integration_id, kind, recipient, status, attempts,
       next_attempt_at, provider_message_id, created_at, updated_at, sent_at, delivered_at,
       conversation_id, author_id)
     VALUES (?, ?, 'whatsapp', ?, 'service', ?, 'delivered', 1, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const content = db.prepare("INSERT INTO message_contents (message_id, content) VALUES (?, ?)");

  const BATCH = 2_000;
  for (let from = 0; from < conversations; from += BATCH) {
    db.transaction(() => {
      for (let i = from; i < Math.min(from + BATCH, conversations); i++) {
        const id = i + 1;
        const phone = phoneOf(i);
        const status = statusOf(i);
        const assignee = i % 10 < 7 ? agents[i % agents.length]! : null;
        const team = i % 10 < 6 ? teams[i % teams.length]! : null;
        // Newer conversations are the open ones; spread over 90 days.
        const start = now - ((i * 7919) % (90 * DAY));
        const step = Math.floor(Math.min(DAY, (now - start) / perConversation) || 60_000);
        contact.run(id, phone, `Customer ${i}`, `customer ${i}`, start, start);
        let last = start;
        let lastInbound = start;
        let firstResponse: number | null = null;
        let preview = "";
        for (let k = 0; k < perConversation; k++) {
          const at = start + k * step;
          const text = sentence(i * 31 + k, 4 + ((i + k) % 9));
          if (k % 2 === 0) {
            inbound.run(id, integrationId, phone, text, `wamid.seed.${id}.${k}`, at, id);
            lastInbound = at;
          } else {
            const messageId = `msg_seed_${id}_${k}`;
            outbound.run(
              messageId,
              id,
              integrationId,
              phone,
              at,
              `wamid.out.${id}.${k}`,
              at,
              at,
              at,
              at,
              id,
              assignee,
            );
            content.run(messageId, JSON.stringify({ channel: "whatsapp", type: "text", text }));
            firstResponse ??= at;
          }
          last = at;
          preview = text.slice(0, 80);
        }
        const waiting = status === "open" && i % 3 === 0 ? lastInbound : null;
        conversation.run(
          id,
          id,
          integrationId,
          status,
          assignee,
          team,
          status === "snoozed" ? now + DAY : null,
          waiting,
          last,
          lastInbound,
          preview,
          firstResponse,
          status === "resolved" ? last : null,
          start,
          last,
        );
        if (i % 3 === 0) label.run(id, (i % 8) + 1);
      }
    })();
  }
  for (const d of deferred) db.exec(d.sql);
  db.exec("INSERT INTO inbound_messages_fts(inbound_messages_fts) VALUES ('rebuild')");
  db.exec("ANALYZE");
  db.pragma("synchronous = NORMAL");
  db.pragma("wal_checkpoint(TRUNCATE)");
  closeAllTenantDbs();
  closeControlDb();

  const seed: InboxSeed = {
    workspaceId: workspace.id,
    slug: workspace.slug,
    integrationId,
    ownerEmail: owner.email,
    ownerPassword: owner.password,
    appSecret: APP_SECRET,
    phoneNumberId: PHONE_NUMBER_ID,
    conversations,
    messages: conversations * perConversation,
    agents,
    teams,
    seedSeconds: (performance.now() - started) / 1000,
    cached: false,
  };
  rmSync(cache, { recursive: true, force: true });
  mkdirSync(cache, { recursive: true });
  cpSync(dataDir, join(cache, "data"), { recursive: true });
  writeFileSync(join(cache, "seed.json"), JSON.stringify(seed));
  return seed;
}
