import { eq } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { dsarRequests, dsarTasks, type DsarTaskStatus, type DsarType } from "~/db/schema/control";
import { subjectHash } from "~/domain/privacy/subject-index.server";
import { encryptSecret } from "~/lib/crypto/vault.server";
import { normaliseEmail } from "~/lib/email-address";
import { newId } from "~/lib/tokens";

/**
 * Verified privacy requests and their tasks, as the portal leaves them after verification and
 * routing (DSAR contract): status `open`, identifiers vault-encrypted with their row-bound aad,
 * keyed hashes, each identifier proven (the portal keeps no other), due 30 days after receipt,
 * one task per holder.
 */

const DAY_MS = 86_400_000;

export interface SeedTask {
  workspaceId?: string | null;
  userId?: string | null;
  status?: DsarTaskStatus;
}

export interface SeedRequest {
  type: DsarType;
  email?: string | null;
  /** E.164. */
  phone?: string | null;
  details?: string | null;
  portalWorkspaceId?: string | null;
  receivedAt?: Date;
  tasks: SeedTask[];
}

export function createDsarRequest(input: SeedRequest): { requestId: string; taskIds: number[] } {
  const db = getControlDb();
  const id = newId("dsr");
  const receivedAt = input.receivedAt ?? new Date();
  const dueAt = new Date(receivedAt.getTime() + 30 * DAY_MS);
  const email = input.email ? normaliseEmail(input.email) : null;
  const phone = input.phone ?? null;
  db.insert(dsarRequests)
    .values({
      id,
      portalWorkspaceId: input.portalWorkspaceId ?? null,
      type: input.type,
      emailEnc: email ? encryptSecret(email, `dsar_requests.email_enc:${id}`) : null,
      phoneEnc: phone ? encryptSecret(phone, `dsar_requests.phone_enc:${id}`) : null,
      emailHash: email ? subjectHash("email", email) : null,
      phoneHash: phone ? subjectHash("phone", phone) : null,
      emailProven: email ? true : null,
      phoneProven: phone ? true : null,
      detailsEnc: input.details
        ? encryptSecret(input.details, `dsar_requests.details_enc:${id}`)
        : null,
      source: "portal",
      status: "open",
      receivedAt,
      verifiedAt: receivedAt,
      dueAt,
    })
    .run();
  const taskIds = input.tasks.map((task) => {
    const status = task.status ?? "pending";
    return db
      .insert(dsarTasks)
      .values({
        requestId: id,
        workspaceId: task.workspaceId ?? null,
        userId: task.userId ?? null,
        status,
        dueAt,
        decidedBy: status === "approved" ? "auto" : null,
        decidedAt: status === "approved" ? receivedAt : null,
        createdAt: receivedAt,
      })
      .returning({ id: dsarTasks.id })
      .get().id;
  });
  return { requestId: id, taskIds };
}

export function taskRow(id: number) {
  return getControlDb().select().from(dsarTasks).where(eq(dsarTasks.id, id)).get()!;
}

export function requestRow(id: string) {
  return getControlDb().select().from(dsarRequests).where(eq(dsarRequests.id, id)).get()!;
}
