import { logger } from "~/lib/logger.server";
import type { SystemContext } from "../context";
import { sendTransactional, type MailData, type MailKind } from "../mail/mail.server";

/**
 * Sends an account mail. A provider failure is logged and reported as `false` rather than
 * thrown: the action that triggered it has already happened and the person can ask again
 * (resend verification, request another reset).
 */
export async function notify<K extends MailKind>(
  ctx: SystemContext,
  kind: K,
  to: string,
  data: MailData[K],
): Promise<boolean> {
  try {
    await sendTransactional(ctx, kind, to, data);
    return true;
  } catch (error) {
    logger.error({ err: error, kind }, "account mail not sent");
    return false;
  }
}
