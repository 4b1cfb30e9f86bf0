import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { eq, inArray } from "drizzle-orm";
import { inboundMessages } from "~/db/schema/tenant";
import { attachments, conversations } from "~/db/schema/tenant-inbox";
import { isWorkspaceId } from "~/db/tenants.server";
import { getEnv } from "~/lib/env.server";
import { NotFoundError, ValidationError } from "~/lib/errors";
import { newId } from "~/lib/tokens";
import { CHANNEL_LABELS, type Channel } from "~/lib/channels";
import type { MessageContent } from "~/channels/types";
import type { TenantContext, WorkspaceContext } from "../context";
import { checkAttachment } from "./attachment-types.server";
import { canSeeConversation, type InboxMember } from "./members.server";

/**
 * Files attached to canned responses and replies, and media customers send. The row keeps what
 * the bytes are (sniffed when stored); the bytes live on disk at
 * DATA_DIR/attachments/<workspaceId>/<id>, one folder per workspace, removed with it.
 */

export type Attachment = typeof attachments.$inferSelect;

/** Ids are ours (newId), so a path built from one never leaves the workspace's folder. */
const ATTACHMENT_ID = /^att_[0-9a-z]{16}$/;

export function isAttachmentId(id: string): boolean {
  return ATTACHMENT_ID.test(id);
}

function workspaceDir(workspaceId: string): string {
  if (!isWorkspaceId(workspaceId)) throw new Error(`Not a workspace id: ${workspaceId}`);
  return join(getEnv().DATA_DIR, "attachments", workspaceId);
}

/** Where an attachment's bytes are kept. */
export function attachmentPath(workspaceId: string, id: string): string {
  if (!isAttachmentId(id)) throw new Error(`Not an attachment id: ${id}`);
  return join(workspaceDir(workspaceId), id);
}

export interface NewAttachment {
  /** The name the file came with; only its extension is checked against the bytes. */
  filename: string;
  bytes: Uint8Array;
  /** The member who uploaded it; null for media a customer sent. */
  createdBy: string | null;
}

/**
 * Checks a file (type from its bytes, size, a name that agrees) and keeps it. Throws
 * AttachmentRefusedError (4xx, a message for the person) and keeps nothing when refused.
 */
export function storeAttachment(ctx: WorkspaceContext, input: NewAttachment): Attachment {
  const type = checkAttachment(input.filename, input.bytes);
  const id = newId("att");
  const path = attachmentPath(ctx.workspaceId, id);
  mkdirSync(workspaceDir(ctx.workspaceId), { recursive: true });
  // Written aside and renamed, so a crash never leaves a half file under a real id.
  const partial = `${path}.part`;
  writeFileSync(partial, input.bytes);
  renameSync(partial, path);
  try {
    return ctx.db
      .insert(attachments)
      .values({
        id,
        kind: type.kind,
        mimeType: type.mimeType,
        filename: type.filename,
        size: input.bytes.length,
        sha256: createHash("sha256").update(input.bytes).digest("hex"),
        createdBy: input.createdBy,
        createdAt: ctx.now(),
      })
      .returning()
      .get();
  } catch (error) {
    rmSync(path, { force: true });
    throw error;
  }
}

/** The row, or NotFoundError (also for an id of another workspace: it is not in this file). */
export function getAttachment(ctx: TenantContext, id: string): Attachment {
  const row = isAttachmentId(id)
    ? ctx.db.select().from(attachments).where(eq(attachments.id, id)).get()
    : undefined;
  if (!row) throw new NotFoundError("Attachment");
  return row;
}

/** Rows for these ids, in the order given; ids that are not there are left out. */
export function attachmentsByIds(ctx: TenantContext, ids: readonly string[]): Attachment[] {
  const valid = ids.filter(isAttachmentId);
  if (valid.length === 0) return [];
  const rows = ctx.db.select().from(attachments).where(inArray(attachments.id, valid)).all();
  const byId = new Map(rows.map((r) => [r.id, r]));
  return valid.flatMap((id) => {
    const row = byId.get(id);
    return row ? [row] : [];
  });
}

/** The row and its bytes; NotFoundError when either is missing. */
export async function readAttachment(
  ctx: WorkspaceContext,
  id: string,
  member?: InboxMember,
): Promise<{ attachment: Attachment; bytes: Buffer }> {
  const attachment = getAttachment(ctx, id);
  // What a customer sent belongs to their conversation: another team's agent gets a 404.
  if (member) {
    const hidden = ctx.db
      .select({ assigneeId: conversations.assigneeId, teamId: conversations.teamId })
      .from(inboundMessages)
      .innerJoin(conversations, eq(conversations.id, inboundMessages.conversationId))
      .where(eq(inboundMessages.attachmentId, id))
      .all()
      .some((c) => !canSeeConversation(member, c));
    if (hidden) throw new NotFoundError("Attachment");
  }
  return { attachment, bytes: await readBytes(ctx.workspaceId, id) };
}

async function readBytes(workspaceId: string, id: string): Promise<Buffer> {
  try {
    return await readFile(attachmentPath(workspaceId, id));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new NotFoundError("Attachment");
    throw error;
  }
}

/**
 * What the dispatcher hands a channel adapter for a media message (adapters never read our
 * database). Takes the tenant connection the dispatcher already holds.
 */
export async function attachmentForSend(
  ctx: TenantContext,
  workspaceId: string,
  id: string,
): Promise<{ bytes: Buffer; mimeType: string; filename: string }> {
  const row = getAttachment(ctx, id);
  return {
    bytes: await readBytes(workspaceId, id),
    mimeType: row.mimeType,
    filename: row.filename,
  };
}

/**
 * How an attachment is served: its sniffed type (the host adds nosniff to every answer), images
 * shown inline, documents downloaded, cached only by the member's own browser.
 */
export function attachmentResponseHeaders(attachment: Attachment): Record<string, string> {
  const type =
    attachment.mimeType === "text/plain" ? "text/plain; charset=utf-8" : attachment.mimeType;
  const ascii = attachment.filename.replace(/[^\x20-\x7e]|["\\]/g, "_");
  const disposition = attachment.kind === "image" ? "inline" : "attachment";
  return {
    "Content-Type": type,
    "Content-Length": String(attachment.size),
    "Content-Disposition": `${disposition}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(attachment.filename)}`,
    "Cache-Control": "private, max-age=3600",
    // A document opened in the browser still may not run anything.
    "Content-Security-Policy":
      "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
  };
}

/** Deletes a row and its bytes (the caller checked nothing still points at it). */
export function deleteAttachment(ctx: WorkspaceContext, id: string): void {
  if (!isAttachmentId(id)) return;
  ctx.db.delete(attachments).where(eq(attachments.id, id)).run();
  removeAttachmentFiles(ctx.workspaceId, [id]);
}

/**
 * The bytes of attachments whose rows a transaction deleted: call after it committed, so a
 * rolled-back transaction never leaves a row whose file is gone.
 */
export function removeAttachmentFiles(workspaceId: string, ids: readonly string[]): void {
  for (const id of ids) {
    if (isAttachmentId(id)) rmSync(attachmentPath(workspaceId, id), { force: true });
  }
}

/** A deleted workspace's purge: its attachments folder. Returns whether there was one. */
export function removeWorkspaceAttachments(workspaceId: string): boolean {
  if (!isWorkspaceId(workspaceId)) return false;
  const dir = workspaceDir(workspaceId);
  if (!existsSync(dir)) return false;
  rmSync(dir, { recursive: true, force: true });
  return true;
}

/**
 * The message content that sends an attachment on a channel. Only WhatsApp sends media; other
 * channels refuse it here, before anything is queued.
 */
export function mediaContent(
  channel: Channel,
  attachment: Attachment,
  caption?: string,
): MessageContent {
  if (channel !== "whatsapp") {
    throw new ValidationError(
      `Attachments can only be sent on WhatsApp. Remove “${attachment.filename}” to send this ${CHANNEL_LABELS[channel]} reply.`,
    );
  }
  if (attachment.kind !== "image" && attachment.kind !== "document") {
    throw new ValidationError(
      `“${attachment.filename}” cannot be sent: only images and documents can.`,
    );
  }
  const text = caption?.trim();
  return {
    channel: "whatsapp",
    type: "media",
    media: {
      kind: attachment.kind,
      attachmentId: attachment.id,
      mimeType: attachment.mimeType,
      filename: attachment.filename,
    },
    ...(text ? { caption: text } : {}),
  };
}
