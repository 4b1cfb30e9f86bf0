import type { TemplateComponent } from "~/channels/types";

/**
 * Meta's published rules for a message template, checked the way its review checks them. The
 * sandbox's simulated review uses this to approve or reject a submitted template; the reason is
 * written in plain words for the person who wrote the template, one rule at a time (the first
 * broken one), as Meta's rejection notices are.
 */

export const REVIEW_LIMITS = {
  body: 1024,
  header: 60,
  footer: 60,
  buttonText: 25,
  buttons: 10,
  quickReplies: 3,
  urlButtons: 2,
  phoneButtons: 1,
} as const;

export const MEDIA_HEADER_FORMATS = ["IMAGE", "VIDEO", "DOCUMENT"] as const;

const NAME = /^[a-z0-9_]+$/;
const PLACEHOLDER = /\{\{(\d+)\}\}/g;
const E164 = /^\+?[1-9]\d{6,14}$/;

type Verdict = { approved: true } | { approved: false; reason: string };

const str = (value: unknown) => (typeof value === "string" ? value : "");
const find = (components: readonly TemplateComponent[], type: string) =>
  components.find((c) => c.type.toUpperCase() === type);

function bodyReason(body: string): string | null {
  if (body.trim() === "") return "The body is empty; every template needs a message body.";
  if (body.length > REVIEW_LIMITS.body) {
    return `The body is ${body.length} characters long; WhatsApp allows at most ${REVIEW_LIMITS.body}.`;
  }
  const numbers = [...body.matchAll(PLACEHOLDER)].map((m) => Number(m[1]));
  const highest = Math.max(0, ...numbers);
  for (let n = 1; n <= highest; n++) {
    if (!numbers.includes(n)) {
      return `The variables skip {{${n}}}: number them {{1}}, {{2}}, {{3}}… without gaps.`;
    }
  }
  const trimmed = body.trim();
  if (/^\{\{\d+\}\}/.test(trimmed)) {
    return "The body starts with a variable; WhatsApp requires text before the first variable.";
  }
  if (/\{\{\d+\}\}[.!?]?$/.test(trimmed)) {
    return "The body ends with a variable; WhatsApp requires text after the last variable.";
  }
  const adjacent = /(\{\{\d+\}\})\s*(\{\{\d+\}\})/.exec(body);
  if (adjacent) {
    return `The variables ${adjacent[1]} and ${adjacent[2]} sit next to each other; put words between them.`;
  }
  return null;
}

function headerReason(header: TemplateComponent): string | null {
  const format = str(header.format).toUpperCase() || "TEXT";
  if (format === "TEXT") {
    const text = str(header.text);
    if (text.length > REVIEW_LIMITS.header) {
      return `The header is ${text.length} characters long; WhatsApp allows at most ${REVIEW_LIMITS.header}.`;
    }
    if (/\{\{/.test(text)) return "The header has a variable; put variables in the body.";
    return null;
  }
  if (!(MEDIA_HEADER_FORMATS as readonly string[]).includes(format)) {
    return `A header can be text, an image, a video or a document, not “${format.toLowerCase()}”.`;
  }
  const example = (header.example ?? {}) as { header_handle?: unknown };
  const sample = Array.isArray(example.header_handle) ? str(example.header_handle[0]) : "";
  if (sample === "") {
    return `The ${format.toLowerCase()} header has no sample; WhatsApp reviews media headers with a sample file.`;
  }
  return null;
}

function buttonsReason(buttons: unknown[]): string | null {
  if (buttons.length > REVIEW_LIMITS.buttons) {
    return `The template has ${buttons.length} buttons; WhatsApp allows at most ${REVIEW_LIMITS.buttons}.`;
  }
  let quick = 0;
  let urls = 0;
  let phones = 0;
  for (const [i, raw] of buttons.entries()) {
    const b = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
    const label = str(b.text);
    const which = `Button ${i + 1}${label ? ` (“${label}”)` : ""}`;
    if (label.trim() === "") return `Button ${i + 1} has no label.`;
    if (label.length > REVIEW_LIMITS.buttonText) {
      return `${which} has a label longer than ${REVIEW_LIMITS.buttonText} characters.`;
    }
    switch (str(b.type).toUpperCase()) {
      case "QUICK_REPLY":
        quick += 1;
        break;
      case "URL": {
        urls += 1;
        let https = false;
        try {
          https = new URL(str(b.url)).protocol === "https:";
        } catch {
          https = false;
        }
        if (!https) return `${which} opens a web address that does not start with https://.`;
        break;
      }
      case "PHONE_NUMBER":
        phones += 1;
        if (!E164.test(str(b.phone_number))) {
          return `${which} calls a number that is not in international format (e.g. +919876543210).`;
        }
        break;
      default:
        return `${which} is of a kind WhatsApp does not know.`;
    }
  }
  if (quick > REVIEW_LIMITS.quickReplies) {
    return `The template has ${quick} quick-reply buttons; keep it to at most ${REVIEW_LIMITS.quickReplies}.`;
  }
  if (urls > REVIEW_LIMITS.urlButtons) {
    return `The template has ${urls} web-address buttons; WhatsApp allows at most ${REVIEW_LIMITS.urlButtons}.`;
  }
  if (phones > REVIEW_LIMITS.phoneButtons) {
    return `The template has ${phones} call buttons; WhatsApp allows at most ${REVIEW_LIMITS.phoneButtons}.`;
  }
  return null;
}

/** Approves a template or names the first of Meta's rules it breaks. */
export function reviewWhatsAppTemplate(template: {
  name: string;
  components: readonly TemplateComponent[];
}): Verdict {
  const reject = (reason: string): Verdict => ({ approved: false, reason });
  if (!NAME.test(template.name)) {
    return reject(
      "The name may use only lower-case letters, digits and underscores (e.g. diwali_offer).",
    );
  }
  const reason =
    bodyReason(str(find(template.components, "BODY")?.text)) ??
    (find(template.components, "HEADER")
      ? headerReason(find(template.components, "HEADER")!)
      : null) ??
    (str(find(template.components, "FOOTER")?.text).length > REVIEW_LIMITS.footer
      ? `The footer is longer than ${REVIEW_LIMITS.footer} characters.`
      : null) ??
    buttonsReason((find(template.components, "BUTTONS")?.buttons as unknown[] | undefined) ?? []);
  return reason ? reject(reason) : { approved: true };
}
