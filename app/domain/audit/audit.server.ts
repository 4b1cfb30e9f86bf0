import { desc } from "drizzle-orm";
import { createHash } from "node:crypto";
import { getControlDb } from "~/db/control.server";
import { auditLog } from "~/db/schema/control";
import type { SystemContext } from "../context";

export const GENESIS_HASH = "0".repeat(64);

export interface AuditEntry {
  action: string;
  workspaceId?: string | null;
  target?: { type: string; id: string | number };
  details?: Record<string, unknown>;
}

type AuditRow = typeof auditLog.$inferSelect;

/** Keys whose values never belong in the audit log, whatever a caller passes by mistake. */
const SECRET_KEY = /pass(word)?|secret|token|api[_-]?key|otp|codes?$/i;

/**
 * Walks the value as JSON.stringify will write it: through arrays, and through toJSON (a Date
 * stays a date instead of becoming {}).
 */
function withoutSecrets(value: unknown): unknown {
  if (!value || typeof value !== "object") return value;
  const json = value as { toJSON?: () => unknown };
  if (typeof json.toJSON === "function") return withoutSecrets(json.toJSON());
  if (Array.isArray(value)) return value.map(withoutSecrets);
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [
      key,
      SECRET_KEY.test(key) ? "[redacted]" : withoutSecrets(v),
    ]),
  );
}

/** The hash covers every column except the id, chained to the previous row's hash. */
export function hashAuditRow(row: Omit<AuditRow, "id" | "hash">): string {
  const canonical = JSON.stringify([
    row.at.getTime(),
    row.actorType,
    row.actorId,
    row.workspaceId,
    row.action,
    row.targetType,
    row.targetId,
    row.ip,
    row.userAgent,
    row.details,
  ]);
  return createHash("sha256").update(row.prevHash).update("\n").update(canonical).digest("hex");
}

/**
 * Appends one event. BEGIN IMMEDIATE makes "read the last hash, insert the next row" atomic
 * across processes (server and CLI), so the chain never forks.
 */
export function recordAudit(ctx: SystemContext, entry: AuditEntry): AuditRow {
  const db = getControlDb();
  return db.transaction(
    (tx) => {
      const last = tx
        .select({ hash: auditLog.hash })
        .from(auditLog)
        .orderBy(desc(auditLog.id))
        .limit(1)
        .get();
      const row = {
        at: ctx.now(),
        actorType: ctx.actor.type,
        actorId: ctx.actor.id ?? null,
        workspaceId: entry.workspaceId ?? null,
        action: entry.action,
        targetType: entry.target?.type ?? null,
        targetId: entry.target ? String(entry.target.id) : null,
        ip: ctx.request?.ip ?? null,
        userAgent: ctx.request?.userAgent?.slice(0, 512) ?? null,
        details: entry.details ? JSON.stringify(withoutSecrets(entry.details)) : null,
        prevHash: last?.hash ?? GENESIS_HASH,
      };
      return tx
        .insert(auditLog)
        .values({ ...row, hash: hashAuditRow(row) })
        .returning()
        .get();
    },
    { behavior: "immediate" },
  );
}

export type AuditVerification =
  { rows: number; ok: true } | { rows: number; ok: false; brokenAt: number; reason: string };

/**
 * Walks the whole chain in id order without loading it into memory. The first remaining row's
 * prev_hash is the anchor: rows before it may only have been removed by 7-year retention.
 */
export function verifyAuditChain(): AuditVerification {
  const statement = getControlDb()
    .$client.prepare(
      `SELECT id, at, actor_type, actor_id, workspace_id, action, target_type, target_id, ip,
              user_agent, details, prev_hash, hash FROM audit_log ORDER BY id`,
    )
    .raw(true);
  let rows = 0;
  let expectedPrev: string | undefined;
  for (const r of statement.iterate() as Iterable<unknown[]>) {
    const [id, at, actorType, actorId, workspaceId, action, targetType, targetId, ip] = r;
    const [userAgent, details, prevHash, hash] = r.slice(9);
    rows += 1;
    if (expectedPrev !== undefined && prevHash !== expectedPrev) {
      return { rows, ok: false, brokenAt: id as number, reason: "previous row missing or changed" };
    }
    const recomputed = hashAuditRow({
      at: new Date(at as number),
      actorType: actorType as AuditRow["actorType"],
      actorId: actorId as string | null,
      workspaceId: workspaceId as string | null,
      action: action as string,
      targetType: targetType as string | null,
      targetId: targetId as string | null,
      ip: ip as string | null,
      userAgent: userAgent as string | null,
      details: details as string | null,
      prevHash: prevHash as string,
    });
    if (recomputed !== hash) {
      return {
        rows,
        ok: false,
        brokenAt: id as number,
        reason: "row content does not match its hash",
      };
    }
    expectedPrev = hash as string;
  }
  return { rows, ok: true };
}
