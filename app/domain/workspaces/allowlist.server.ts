import { and, asc, eq, inArray } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { ipAllowlist, workspaces } from "~/db/schema/control";
import { NotFoundError, ValidationError, type FieldErrors } from "~/lib/errors";
import { ipAllowed, normaliseIp, parseCidr } from "~/lib/ip";
import { recordAudit } from "../audit/audit.server";
import type { SystemContext } from "../context";

/**
 * Per-workspace IP allowlists, kept in the control db so the guard can answer
 * before a tenant file is opened.
 *
 * - An empty list means the allowlist is off: everyone may connect.
 * - Ranges are stored in canonical form (lib/ip parseCidr): "10.0.0.1" and "10.0.0.1/32" are
 *   the same entry, and the (workspace_id, cidr) unique index sees them as such.
 * - Lock-out rule: a change that would leave a non-empty list not covering the IP of the
 *   request making it is refused with a ValidationError and changes nothing. A context with
 *   no request at all is only accepted from the operator CLI or a system job: that is the
 *   recovery path for a workspace that did lock itself out (e.g. after its IP changed).
 * - Every change and its audit row commit together in one IMMEDIATE transaction, so the
 *   check-then-write cannot interleave with another process's change.
 */

export const MAX_ALLOWLIST_ENTRIES = 100;
export const MAX_ALLOWLIST_LABEL = 100;

export interface AllowlistEntry {
  id: number;
  cidr: string;
  label: string;
  createdAt: Date;
}

export interface AllowlistEntryInput {
  cidr: string;
  label?: string;
}

interface CleanEntry {
  cidr: string;
  label: string;
}

type Tx = Parameters<Parameters<ReturnType<typeof getControlDb>["transaction"]>[0]>[0];

const columns = {
  id: ipAllowlist.id,
  cidr: ipAllowlist.cidr,
  label: ipAllowlist.label,
  createdAt: ipAllowlist.createdAt,
};

function cleanLabel(input: unknown): string {
  const label = typeof input === "string" ? input.trim() : input == null ? "" : null;
  if (label === null)
    throw new ValidationError("The label must be text.", { label: ["The label must be text."] });
  if ([...label].length > MAX_ALLOWLIST_LABEL) {
    const message = `Keep the label to ${MAX_ALLOWLIST_LABEL} characters or fewer.`;
    throw new ValidationError(message, { label: [message] });
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(label)) {
    const message = "The label cannot contain line breaks or control characters.";
    throw new ValidationError(message, { label: [message] });
  }
  return label;
}

function cleanEntry(input: AllowlistEntryInput): CleanEntry {
  if (!input || typeof input !== "object") {
    throw new ValidationError("Each allowlist entry needs an IP address or CIDR range.");
  }
  if (typeof input.cidr !== "string") {
    const message = "Enter an IP address or CIDR range.";
    throw new ValidationError(message, { cidr: [message] });
  }
  return { cidr: parseCidr(input.cidr).cidr, label: cleanLabel(input.label) };
}

function tooMany(): ValidationError {
  return new ValidationError(
    `An allowlist can hold at most ${MAX_ALLOWLIST_ENTRIES} entries. Combine addresses into ` +
      `wider ranges (for example 203.0.113.0/24) or remove some first.`,
  );
}

/** Refuses a list that would shut out the person making the change. */
function assertNotLockedOut(ctx: SystemContext, cidrsAfter: readonly string[]): void {
  if (cidrsAfter.length === 0) return;
  const ip = ctx.request?.ip;
  if (ip === undefined) {
    if (!ctx.request && (ctx.actor.type === "cli" || ctx.actor.type === "system")) return;
    throw new ValidationError(
      "Your IP address could not be determined, so the allowlist was not changed: " +
        "a change we cannot check could lock you out.",
    );
  }
  if (ipAllowed(ip, cidrsAfter)) return;
  let shown: string;
  try {
    shown = normaliseIp(ip);
  } catch {
    shown = "unknown";
  }
  throw new ValidationError(
    `This change would lock you out: your current IP address (${shown}) would not be in the ` +
      `allowlist. Include an entry that covers it, or remove every entry to turn the ` +
      `allowlist off.`,
  );
}

function requireWorkspace(tx: Tx, workspaceId: string): void {
  const row = tx
    .select({ id: workspaces.id })
    .from(workspaces)
    .where(eq(workspaces.id, workspaceId))
    .get();
  if (!row) throw new NotFoundError("Workspace");
}

function entriesOf(tx: Tx, workspaceId: string): AllowlistEntry[] {
  return tx
    .select(columns)
    .from(ipAllowlist)
    .where(eq(ipAllowlist.workspaceId, workspaceId))
    .orderBy(asc(ipAllowlist.id))
    .all();
}

function transaction<T>(fn: (tx: Tx) => T): T {
  return getControlDb().transaction(fn, { behavior: "immediate" });
}

/** The workspace's entries, oldest first. */
export function listAllowlist(workspaceId: string): AllowlistEntry[] {
  return getControlDb()
    .select(columns)
    .from(ipAllowlist)
    .where(eq(ipAllowlist.workspaceId, workspaceId))
    .orderBy(asc(ipAllowlist.id))
    .all();
}

export function addAllowlistEntry(
  ctx: SystemContext,
  workspaceId: string,
  input: AllowlistEntryInput,
): AllowlistEntry {
  const entry = cleanEntry(input);
  return transaction((tx) => {
    requireWorkspace(tx, workspaceId);
    const existing = entriesOf(tx, workspaceId);
    if (existing.some((e) => e.cidr === entry.cidr)) {
      const message = `${entry.cidr} is already on the allowlist.`;
      throw new ValidationError(message, { cidr: [message] });
    }
    if (existing.length >= MAX_ALLOWLIST_ENTRIES) throw tooMany();
    assertNotLockedOut(ctx, [...existing.map((e) => e.cidr), entry.cidr]);
    const row = tx
      .insert(ipAllowlist)
      .values({ workspaceId, cidr: entry.cidr, label: entry.label, createdAt: ctx.now() })
      .returning(columns)
      .get();
    recordAudit(ctx, {
      action: "ip_allowlist.added",
      workspaceId,
      target: { type: "ip_allowlist_entry", id: row.id },
      details: { cidr: row.cidr, label: row.label },
    });
    return row;
  });
}

export function removeAllowlistEntry(ctx: SystemContext, workspaceId: string, id: number): void {
  if (!Number.isSafeInteger(id) || id <= 0) throw new NotFoundError("Allowlist entry");
  transaction((tx) => {
    const existing = entriesOf(tx, workspaceId);
    const entry = existing.find((e) => e.id === id);
    // Another workspace's entry is "not found" too: ids are never a way in.
    if (!entry) throw new NotFoundError("Allowlist entry");
    assertNotLockedOut(
      ctx,
      existing.filter((e) => e.id !== id).map((e) => e.cidr),
    );
    tx.delete(ipAllowlist)
      .where(and(eq(ipAllowlist.workspaceId, workspaceId), eq(ipAllowlist.id, id)))
      .run();
    recordAudit(ctx, {
      action: "ip_allowlist.removed",
      workspaceId,
      target: { type: "ip_allowlist_entry", id },
      details: { cidr: entry.cidr, label: entry.label },
    });
  });
}

/**
 * Sets the whole list at once (the settings form's "save"). Entries whose range stays keep
 * their id and creation time; an empty list turns the allowlist off.
 */
export function replaceAllowlist(
  ctx: SystemContext,
  workspaceId: string,
  entries: readonly AllowlistEntryInput[],
): AllowlistEntry[] {
  if (!Array.isArray(entries))
    throw new ValidationError("The allowlist must be a list of entries.");
  if (entries.length > MAX_ALLOWLIST_ENTRIES) throw tooMany();

  const wanted: CleanEntry[] = [];
  const firstSeen = new Map<string, number>();
  entries.forEach((input, index) => {
    const n = index + 1;
    let entry: CleanEntry;
    try {
      entry = cleanEntry(input);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const fieldErrors: FieldErrors = {};
      for (const [field, messages] of Object.entries(error.fieldErrors)) {
        fieldErrors[`entries.${index}.${field}`] = messages;
      }
      throw new ValidationError(`Entry ${n}: ${error.message}`, fieldErrors);
    }
    const earlier = firstSeen.get(entry.cidr);
    if (earlier !== undefined) {
      const message = `Entry ${n} (${entry.cidr}) is the same range as entry ${earlier}; list each range once.`;
      throw new ValidationError(message, { [`entries.${index}.cidr`]: [message] });
    }
    firstSeen.set(entry.cidr, n);
    wanted.push(entry);
  });

  return transaction((tx) => {
    requireWorkspace(tx, workspaceId);
    const before = entriesOf(tx, workspaceId);
    assertNotLockedOut(
      ctx,
      wanted.map((e) => e.cidr),
    );
    const wantedByCidr = new Map(wanted.map((e) => [e.cidr, e]));
    const beforeByCidr = new Map(before.map((e) => [e.cidr, e]));
    const removed = before.filter((e) => !wantedByCidr.has(e.cidr));
    if (removed.length > 0) {
      tx.delete(ipAllowlist)
        .where(
          and(
            eq(ipAllowlist.workspaceId, workspaceId),
            inArray(
              ipAllowlist.id,
              removed.map((e) => e.id),
            ),
          ),
        )
        .run();
    }
    const added: CleanEntry[] = [];
    for (const entry of wanted) {
      const kept = beforeByCidr.get(entry.cidr);
      if (!kept) {
        tx.insert(ipAllowlist)
          .values({ workspaceId, cidr: entry.cidr, label: entry.label, createdAt: ctx.now() })
          .run();
        added.push(entry);
      } else if (kept.label !== entry.label) {
        tx.update(ipAllowlist).set({ label: entry.label }).where(eq(ipAllowlist.id, kept.id)).run();
      }
    }
    recordAudit(ctx, {
      action: "ip_allowlist.replaced",
      workspaceId,
      target: { type: "workspace", id: workspaceId },
      details: {
        entries: wanted.map(({ cidr, label }) => ({ cidr, label })),
        added: added.map((e) => e.cidr),
        removed: removed.map((e) => e.cidr),
      },
    });
    return entriesOf(tx, workspaceId);
  });
}

/**
 * The guard's question, on every dashboard and API request: one query on the
 * (workspace_id, cidr) index. No entries means the allowlist is off.
 */
export function isIpAllowedForWorkspace(workspaceId: string, ip: string): boolean {
  const rows = getControlDb()
    .select({ cidr: ipAllowlist.cidr })
    .from(ipAllowlist)
    .where(eq(ipAllowlist.workspaceId, workspaceId))
    .all();
  return ipAllowed(
    ip,
    rows.map((r) => r.cidr),
  );
}
