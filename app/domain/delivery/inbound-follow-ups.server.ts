import { eq } from "drizzle-orm";
import type { ChannelEvent } from "~/channels/types";
import { inboundMessages } from "~/db/schema/tenant";
import { withTenantDb, type TenantDb } from "~/db/tenants.server";
import { logger } from "~/lib/logger.server";
import { autoDraftAfterCustomerMessage } from "../ai/drafts.server";
import { systemContext, type WorkspaceContext } from "../context";
import { afterCustomerMessage } from "../inbox/after-message.server";
import { drainAssignmentQueue } from "../inbox/assignment.server";
import { storeAttachment } from "../inbox/attachments.server";
import { publishInboxEvent } from "../inbox/live.server";
import { workspaceContextFor } from "../workspaces/access.server";
import { integrationById } from "./integrations.server";

/**
 * What runs after a customer's message joined a conversation, once the batch that stored it
 * committed: the team rules (CSAT answer, outside-hours reply, auto-assignment), the automatic
 * AI draft, and fetching the image or document they sent.
 */

const log = logger.child({ area: "inbound-follow-ups" });

type InboundEvent = Extract<ChannelEvent, { type: "inbound" }>;
export type InboundMedia = NonNullable<InboundEvent["media"]>;

export interface InboundFollowUp {
  conversationId: number;
  inboundId: number;
  integrationId: string | null;
  text: string;
  at: Date;
  automated: boolean;
  media?: InboundMedia;
}

function contextFor(workspaceId: string, db: TenantDb): WorkspaceContext {
  return workspaceContextFor(systemContext("inbound"), workspaceId, db);
}

/**
 * Runs the follow-ups of a batch of customer messages in arrival order, under one context that
 * reads the workspace and its inbox settings once, and drains the assignment queue once at the
 * end: a burst of webhooks applies hundreds of messages at a time.
 *
 * Machine-written messages (auto-replies, bulk mail) get no automatic answer of any kind: they
 * are stored and shown, nothing more, or two auto-responders would talk forever.
 */
export function afterInboundMessages(
  workspaceId: string,
  db: TenantDb,
  inputs: readonly InboundFollowUp[],
): void {
  if (inputs.length === 0) return;
  const ctx: WorkspaceContext = { ...contextFor(workspaceId, db), readCache: new Map() };
  let answered = 0;
  for (const input of inputs) {
    if (input.media) void fetchInboundMedia(workspaceId, input, input.media);
    if (input.automated) continue;
    try {
      const after = afterCustomerMessage(ctx, input.conversationId, input.text, input.at, {
        drainQueue: false,
      });
      if (!after.csatAnswered) autoDraftAfterCustomerMessage(ctx, input.conversationId);
      answered += 1;
    } catch (error) {
      // The message is stored and in the inbox; a failed rule must not hold up the batch's others.
      log.error({ err: error, conversationId: input.conversationId }, "inbound follow-up failed");
    }
  }
  if (answered === 0) return;
  try {
    drainAssignmentQueue(ctx);
  } catch (error) {
    // The queue drains again on the next message, resolve or agent coming online, and each minute.
    log.error({ err: error, workspaceId }, "assignment queue drain failed");
  }
}

const inFlight = new Set<Promise<void>>();

/** Resolves once every media download started so far has finished (tests, shutdown). */
export async function settleInboundMedia(): Promise<void> {
  while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
}

/**
 * Downloads what the customer sent, keeps it as an attachment and links it to the inbound
 * message. A failure leaves the placeholder text the message already has, and is logged.
 */
function fetchInboundMedia(
  workspaceId: string,
  input: InboundFollowUp,
  media: InboundMedia,
): Promise<void> {
  const run = (async () => {
    try {
      const integration = input.integrationId
        ? integrationById(workspaceId, input.integrationId)
        : null;
      if (!integration?.adapter.downloadMedia) {
        log.warn({ workspaceId, inboundId: input.inboundId }, "no adapter to download media");
        return;
      }
      const file = await integration.adapter.downloadMedia(media.id);
      await withTenantDb(workspaceId, (db) => {
        const ctx = contextFor(workspaceId, db);
        const attachment = storeAttachment(ctx, {
          // Images come without a name; the check names them from their bytes.
          filename: media.filename ?? "",
          bytes: file.bytes,
          createdBy: null,
        });
        db.update(inboundMessages)
          .set({ attachmentId: attachment.id })
          .where(eq(inboundMessages.id, input.inboundId))
          .run();
        publishInboxEvent(workspaceId, {
          type: "message",
          conversationId: input.conversationId,
          direction: "in",
          at: input.at.getTime(),
        });
      });
    } catch (error) {
      log.warn(
        { err: error, workspaceId, inboundId: input.inboundId },
        "inbound media download failed",
      );
    }
  })();
  inFlight.add(run);
  void run.finally(() => inFlight.delete(run));
  return run;
}
