import { workspaceContextFor } from "../workspaces/access.server";
import { eq } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { workspaces } from "~/db/schema/control";
import { ValidationError } from "~/lib/errors";
import { systemContext } from "../context";
import type { DeferredContentSource } from "../delivery/dispatcher.server";
import { composeMarketingEmail } from "../delivery/email-compose.server";
import { smsSegments } from "../templates/sms";
import { getTemplate, renderForContact, sendableReason } from "../templates/templates.server";
import {
  getCampaign,
  type Campaign,
  type CampaignContext,
  type CostUnit,
  type RenderContact,
  type Renderer,
} from "./campaigns.server";

/**
 * The glue between campaigns and templates: each variant's template, checked sendable (a
 * WhatsApp template must be approved by Meta) and compiled once, renders each recipient.
 */

/** One variant: how to render a recipient, and whether its links may be tracked. */
export interface VariantRenderer {
  render: Renderer;
  trackLinks: boolean;
}

function attributesOf(contact: RenderContact): Record<string, string | number | boolean> {
  try {
    return JSON.parse(contact.attributes) as Record<string, string | number | boolean>;
  } catch {
    return {};
  }
}

export function campaignRenderers(
  ctx: CampaignContext,
  campaign: Campaign,
): Map<string, VariantRenderer> {
  const renderers = new Map<string, VariantRenderer>();
  for (const variant of campaign.variants) {
    const template = getTemplate(ctx, variant.templateId);
    if (template.channel !== campaign.channel) {
      throw new ValidationError(
        `The template “${template.name}” is for ${template.channel}, not ${campaign.channel}.`,
      );
    }
    const reason = sendableReason(template);
    if (reason) throw new ValidationError(reason);
    renderers.set(variant.key, {
      render: (contact) =>
        renderForContact(ctx, template, {
          name: contact.name,
          email: contact.email,
          phone: contact.phone,
          country: contact.country,
          attributes: attributesOf(contact),
        }),
      trackLinks: template.channel === "email" ? template.content.trackLinks : false,
    });
  }
  return renderers;
}

/** What the review prices one recipient at: Meta's category, SMS segments, or one message. */
export function costUnitFor(ctx: CampaignContext, campaign: Campaign): CostUnit {
  const template = getTemplate(ctx, campaign.variants[0]!.templateId);
  if (template.channel === "whatsapp") {
    return { unit: (template.category ?? "MARKETING").toUpperCase(), unitsPerRecipient: 1 };
  }
  if (template.channel === "sms") {
    // Personalised texts vary; the template text with its tags is a fair estimate.
    return { unit: "segment", unitsPerRecipient: smsSegments(template.content.text).segments };
  }
  return { unit: "message", unitsPerRecipient: 1 };
}

/**
 * Campaign messages are written when they are sent (ADR 0011): the dispatcher asks for a
 * campaign's renderer once per visit and renders each recipient with it, adding the signed
 * unsubscribe, open and click links to marketing email. The host wires it in.
 */
export const campaignContent: DeferredContentSource = (workspaceId, db, campaignId) => {
  const workspace = getControlDb()
    .select({
      trackOpens: workspaces.trackOpens,
      trackClicks: workspaces.trackClicks,
    })
    .from(workspaces)
    .where(eq(workspaces.id, workspaceId))
    .get();
  if (!workspace) throw new Error("The workspace no longer exists.");
  const ctx: CampaignContext = workspaceContextFor(systemContext("campaigns"), workspaceId, db);
  const renderers = campaignRenderers(ctx, getCampaign(ctx, campaignId));
  return (variant, recipient, messageId) => {
    const renderer = renderers.get(variant);
    if (!renderer) throw new Error(`The campaign has no variant ${variant}.`);
    const content = renderer.render(recipient);
    if (content.channel !== "email") return content;
    return composeMarketingEmail(content, {
      target: { workspaceId, contactId: recipient.id, channel: "email", messageId },
      trackOpens: workspace.trackOpens,
      trackClicks: workspace.trackClicks && renderer.trackLinks,
    });
  };
};
