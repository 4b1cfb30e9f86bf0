import type { Channel } from "~/lib/channels";
import { newId } from "~/lib/tokens";
import type { ChannelAdapter, TemplateApi } from "../types";

/** Template ids the sandbox hands out start with this, so a row shows where it was reviewed. */
export const SANDBOX_TEMPLATE_PREFIX = "sandbox";

/**
 * The sandbox's WhatsApp template account: every submission is accepted for review (PENDING);
 * the simulated review itself (app/domain/templates) decides later, as Meta would. It keeps no
 * list of its own: the workspace's rows are the account.
 */
const sandboxTemplates: TemplateApi = {
  async list() {
    return [];
  },
  async create(template) {
    return {
      id: newId(SANDBOX_TEMPLATE_PREFIX),
      status: "PENDING",
      category: template.category,
    };
  },
};

/**
 * A channel with no integration: nothing leaves the box. The message row keeps exactly what
 * would have been sent (the sandbox page shows it), labelled "sandbox" everywhere it is shown.
 * WhatsApp's sandbox also accepts templates for a simulated review; its receipts and replies are
 * simulated by the delivery area.
 */
export function createSandboxAdapter(channel: Channel): ChannelAdapter {
  return {
    channel,
    ...(channel === "whatsapp" ? { templates: sandboxTemplates } : {}),
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
