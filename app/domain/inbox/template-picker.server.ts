import { formatMoney } from "~/lib/money";
import { workspacePrices } from "../campaigns/prices.server";
import { unitPrice } from "../campaigns/review.server";
import { getContact } from "../contacts/contacts.server";
import type { WorkspaceContext } from "../context";
import { listTemplates, renderForContact } from "../templates/templates.server";

/**
 * What the composer offers once WhatsApp only allows templates: the approved templates, each
 * with its body parameters already filled in from the contact (the template's own variable map
 * and fallbacks) and what one message costs at the workspace's prices.
 */
export interface TemplateChoice {
  id: number;
  name: string;
  language: string;
  category: string | null;
  /** One parameter per line, ready to edit. */
  params: string;
  cost: string;
}

export function replyTemplates(ctx: WorkspaceContext, contactId: number): TemplateChoice[] {
  const contact = getContact(ctx, contactId);
  const prices = workspacePrices(ctx, ctx.workspace.currency).rows;
  const country = contact.country ?? ctx.workspace.country;
  return listTemplates(ctx, { channel: "whatsapp", status: "approved" }).map((template) => {
    const content = renderForContact(ctx, template, contact);
    const params =
      content.channel === "whatsapp" && content.type === "template" ? content.bodyParams : [];
    const unit = template.category ?? "MARKETING";
    return {
      id: template.id,
      name: template.name,
      language: template.language,
      category: template.category,
      params: params.join("\n"),
      cost: formatMoney(unitPrice(prices, "whatsapp", unit, country), ctx.workspace.currency),
    };
  });
}
