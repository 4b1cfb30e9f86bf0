import { campaignContent } from "~/domain/campaigns/renderers.server";
import { campaignRunnerHook } from "~/domain/campaigns/campaign-runner.server";
import type { DispatcherWiring } from "~/domain/delivery/dispatcher.server";
import { sandboxReviewHook } from "~/domain/templates/whatsapp-sync.server";

/**
 * Everything the process's dispatcher runs besides sending, in one place: the host starts the
 * dispatcher with this, and a test that wants the whole engine passes the same object. An area
 * with timed work per workspace adds its hook here; nothing plugs itself in by being imported.
 */
export const deliveryWiring: DispatcherWiring = {
  // Campaigns to start, A/B tests to decide, sent campaigns to complete.
  // Then the WhatsApp sandbox's simulated template reviews.
  dueHooks: [campaignRunnerHook, sandboxReviewHook],
  // Campaign messages are written when they are sent.
  content: campaignContent,
};
