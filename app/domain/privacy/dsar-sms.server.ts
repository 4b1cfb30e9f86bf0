import { createSmsAdapter } from "~/channels/sms-twilio/adapter.server";
import type { ChannelAdapter } from "~/channels/types";
import { getEnv } from "~/lib/env.server";
import { newId } from "~/lib/tokens";
import { integrationForChannel } from "../delivery/integrations.server";

/**
 * How a privacy requester's phone is reached (verification codes and notices): a workspace
 * portal's own SMS integration when it has one, else the platform's SMS account
 * (PLATFORM_SMS_*), else nothing. Never the sandbox: a code kept there can never arrive, so
 * portals without a way to text say so before anyone submits (ADR 0014).
 */

export interface RequesterSms {
  send(to: string, text: string): Promise<void>;
}

/** Whom a platform text is accounted to in the adapter's message (no workspace sends it). */
const PLATFORM_SENDER = "platform";

function platformAdapter(): ChannelAdapter | null {
  const env = getEnv();
  if (!env.PLATFORM_SMS_ACCOUNT_SID || !env.PLATFORM_SMS_AUTH_TOKEN || !env.PLATFORM_SMS_FROM) {
    return null;
  }
  return createSmsAdapter(
    {
      accountSid: env.PLATFORM_SMS_ACCOUNT_SID,
      authToken: env.PLATFORM_SMS_AUTH_TOKEN,
      from: env.PLATFORM_SMS_FROM,
    },
    { baseUrl: env.SMS_API_BASE_URL, timeoutMs: env.PROVIDER_TIMEOUT_MS },
  );
}

/** The way to text requesters of this portal (null: the platform's /dsar), or null if none. */
export function requesterSms(portalWorkspaceId: string | null): RequesterSms | null {
  const integration = portalWorkspaceId ? integrationForChannel(portalWorkspaceId, "sms") : null;
  const adapter = integration?.adapter ?? platformAdapter();
  if (!adapter) return null;
  const workspaceId = integration?.workspaceId ?? PLATFORM_SENDER;
  return {
    async send(to, text) {
      await adapter.send({
        id: newId("dsarsms"),
        workspaceId,
        to,
        content: { channel: "sms", text },
      });
    },
  };
}

/** Whether this portal can text a verification code (its form says so before submitting). */
export function canTextRequesters(portalWorkspaceId: string | null): boolean {
  return requesterSms(portalWorkspaceId) !== null;
}
