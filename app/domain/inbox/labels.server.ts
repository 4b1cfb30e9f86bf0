import { and, asc, eq, sql } from "drizzle-orm";
import {
  conversationActivity,
  conversationLabels,
  conversations,
  labels,
} from "~/db/schema/tenant-inbox";
import { ConflictError, NotFoundError, ValidationError } from "~/lib/errors";
import type { WorkspaceContext } from "../context";
import { publishInboxEvent } from "./live.server";

/** Labels the team puts on conversations ("Refund", "VIP"), with a colour from the app's badges. */

export const LABEL_COLORS = ["gray", "green", "yellow", "red"] as const;
export type LabelColor = (typeof LABEL_COLORS)[number];
export const MAX_LABEL_NAME = 40;

export interface LabelRow {
  id: number;
  name: string;
  color: LabelColor;
  conversations: number;
}

export function listLabels(ctx: WorkspaceContext): LabelRow[] {
  return ctx.db
    .select({
      id: labels.id,
      name: labels.name,
      color: labels.color,
      conversations: sql<number>`(SELECT count(*) FROM conversation_labels cl WHERE cl.label_id = ${labels.id})`,
    })
    .from(labels)
    .orderBy(asc(labels.name))
    .all()
    .map((l) => ({ ...l, color: asColor(l.color) }));
}

function asColor(value: string): LabelColor {
  return (LABEL_COLORS as readonly string[]).includes(value) ? (value as LabelColor) : "gray";
}

function clean(input: { name: string; color?: string }, exceptId?: number, ctx?: WorkspaceContext) {
  const name = input.name.trim().replace(/\s+/g, " ");
  if (!name || name.length > MAX_LABEL_NAME) {
    const message = `Give the label a name of up to ${MAX_LABEL_NAME} characters.`;
    throw new ValidationError(message, { name: [message] });
  }
  const color = input.color ?? "gray";
  if (!(LABEL_COLORS as readonly string[]).includes(color)) {
    throw new ValidationError("Choose a colour from the list.", {
      color: ["Choose a colour from the list."],
    });
  }
  const clash = ctx?.db
    .select({ id: labels.id })
    .from(labels)
    .where(sql`lower(${labels.name}) = lower(${name})`)
    .get();
  if (clash && clash.id !== exceptId) {
    const message = `There is already a label called “${name}”.`;
    throw new ValidationError(message, { name: [message] });
  }
  return { name, color };
}

export function getLabel(ctx: WorkspaceContext, labelId: number) {
  const label = ctx.db.select().from(labels).where(eq(labels.id, labelId)).get();
  if (!label) throw new NotFoundError("Label", labelId);
  return label;
}

export function createLabel(ctx: WorkspaceContext, input: { name: string; color?: string }) {
  const value = clean(input, undefined, ctx);
  return ctx.db
    .insert(labels)
    .values({ ...value, createdAt: ctx.now() })
    .returning()
    .get();
}

export function renameLabel(
  ctx: WorkspaceContext,
  labelId: number,
  input: { name: string; color?: string },
) {
  getLabel(ctx, labelId);
  const value = clean(input, labelId, ctx);
  ctx.db.update(labels).set(value).where(eq(labels.id, labelId)).run();
  return getLabel(ctx, labelId);
}

/** Deletes a label and takes it off every conversation. */
export function deleteLabel(ctx: WorkspaceContext, labelId: number): { name: string } {
  const label = getLabel(ctx, labelId);
  ctx.db.delete(labels).where(eq(labels.id, labelId)).run();
  return { name: label.name };
}

function assertConversation(ctx: WorkspaceContext, conversationId: number) {
  const row = ctx.db
    .select({ id: conversations.id })
    .from(conversations)
    .where(eq(conversations.id, conversationId))
    .get();
  if (!row) throw new NotFoundError("Conversation", conversationId);
}

function labelActivity(
  ctx: WorkspaceContext,
  actorId: string | null,
  conversationId: number,
  kind: "labeled" | "unlabeled",
  label: { id: number; name: string },
) {
  ctx.db
    .insert(conversationActivity)
    .values({
      conversationId,
      at: ctx.now(),
      actorId,
      kind,
      body: label.name,
      data: JSON.stringify({ labelId: label.id }),
    })
    .run();
}

export function addLabelToConversation(
  ctx: WorkspaceContext,
  actorId: string | null,
  conversationId: number,
  labelId: number,
): void {
  assertConversation(ctx, conversationId);
  const label = getLabel(ctx, labelId);
  ctx.db.transaction((tx) => {
    const added = tx
      .insert(conversationLabels)
      .values({ conversationId, labelId })
      .onConflictDoNothing()
      .run();
    if (added.changes === 0)
      throw new ConflictError(`The conversation already has “${label.name}”.`);
    labelActivity(ctx, actorId, conversationId, "labeled", label);
  });
  publishInboxEvent(ctx.workspaceId, {
    type: "conversation",
    conversationId,
    at: ctx.now().getTime(),
  });
}

export function removeLabelFromConversation(
  ctx: WorkspaceContext,
  actorId: string | null,
  conversationId: number,
  labelId: number,
): void {
  assertConversation(ctx, conversationId);
  const label = getLabel(ctx, labelId);
  ctx.db.transaction((tx) => {
    const removed = tx
      .delete(conversationLabels)
      .where(
        and(
          eq(conversationLabels.conversationId, conversationId),
          eq(conversationLabels.labelId, labelId),
        ),
      )
      .run();
    if (removed.changes === 0) throw new NotFoundError("Label on the conversation");
    labelActivity(ctx, actorId, conversationId, "unlabeled", label);
  });
  publishInboxEvent(ctx.workspaceId, {
    type: "conversation",
    conversationId,
    at: ctx.now().getTime(),
  });
}

export function labelsOfConversation(ctx: WorkspaceContext, conversationId: number) {
  return ctx.db
    .select({ id: labels.id, name: labels.name, color: labels.color })
    .from(conversationLabels)
    .innerJoin(labels, eq(labels.id, conversationLabels.labelId))
    .where(eq(conversationLabels.conversationId, conversationId))
    .orderBy(asc(labels.name))
    .all()
    .map((l) => ({ ...l, color: asColor(l.color) }));
}
