import type { Channel } from "~/lib/channels";
import type { ChannelAdapter } from "../types";

/**
 * A channel with no integration: nothing leaves the box. The message row keeps exactly what
 * would have been sent (the sandbox page shows it) and the engine marks it delivered, labelled
 * "sandbox" everywhere it is shown.
 */
export function createSandboxAdapter(channel: Channel): ChannelAdapter {
  return {
    channel,
    async send(message) {
      return { providerMessageId: `sandbox_${message.id}` };
    },
    classify(error) {
      return { kind: "permanent", reason: error instanceof Error ? error.message : String(error) };
    },
    async receiveWebhook() {
      return { kind: "rejected", status: 400, reason: "The sandbox receives no webhooks" };
    },
    async testConnection() {
      return { ok: true, detail: "Sandbox: messages are kept here, never sent" };
    },
  };
}
