import { syncAllWhatsAppTemplates } from "~/domain/templates/whatsapp-sync.server";
import type { Job } from "./job";

export const whatsappTemplateSync: Job = {
  name: "whatsapp-template-sync",
  schedule: "*/30 * * * *",
  description:
    "Pull WhatsApp templates and Meta's review decisions for every workspace with WhatsApp, every 30 minutes",
  maxRunMs: 25 * 60 * 1000,
  async run({ now, log }) {
    return { ...(await syncAllWhatsAppTemplates(now, log)) };
  },
};
