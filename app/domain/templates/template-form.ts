import type { TemplateInput } from "./templates.server";
import type { WhatsAppButtonInput, WhatsAppTemplateInput } from "./whatsapp-sync.server";

/**
 * The template editor's form fields (components/template-editor*.tsx) as the domain's inputs.
 * Only shapes the fields: every check is saveTemplate's / submitWhatsAppTemplate's, whose
 * field errors come back keyed by these same names. Pure.
 *
 *   email     name, subject, preheader, trackLinks ("on" when ticked), blocks[i].<field>
 *   sms       name, text, dltTemplateId, dltText
 *   telegram  name, text, buttons[i].text, buttons[i].url
 *   whatsapp  name, language, category, headerFormat, headerText, headerMediaUrl, bodyText, footerText,
 *             buttons[i].type|text|url|phoneNumber, examples[i], variableMap.<n>
 */

function text(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === "string" ? value : "";
}

/** `prefix[i].field` entries as a list of records in index order (gaps closed). */
function indexed(form: FormData, prefix: string): Record<string, string>[] {
  const pattern = new RegExp(`^${prefix}\\[(\\d{1,3})\\]\\.([A-Za-z]+)$`);
  const byIndex = new Map<number, Record<string, string>>();
  for (const [key, value] of form) {
    const m = pattern.exec(key);
    if (!m || typeof value !== "string") continue;
    const i = Number(m[1]);
    const record = byIndex.get(i) ?? {};
    record[m[2]!] = value;
    byIndex.set(i, record);
  }
  return [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, record]) => record);
}

const optional = (value: string | undefined) => (value && value.trim() ? value : undefined);
/** A number field: left as typed when it is not a number, so the schema names the problem. */
function optionalNumber(value: string | undefined): number | undefined {
  if (!value || !value.trim()) return undefined;
  return Number(value);
}

function emailBlock(raw: Record<string, string>): unknown {
  switch (raw.type) {
    case "heading":
      return { type: "heading", text: raw.text ?? "", level: optionalNumber(raw.level) };
    case "paragraph":
      return { type: "paragraph", text: raw.text ?? "" };
    case "button":
      return {
        type: "button",
        text: raw.text ?? "",
        url: raw.url ?? "",
        color: optional(raw.color),
      };
    case "image":
      return {
        type: "image",
        src: raw.src ?? "",
        alt: raw.alt ?? "",
        href: optional(raw.href),
        width: optionalNumber(raw.width),
      };
    case "divider":
      return { type: "divider" };
    default:
      return { type: raw.type ?? "" };
  }
}

/** Drops keys whose value is undefined (the block schemas are strict). */
function compact(value: unknown): unknown {
  if (!value || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

/** An email, SMS or Telegram template from the editor's form. */
export function templateInputFromForm(form: FormData, options: { dltRequired: boolean }) {
  const channel = text(form, "channel");
  const name = text(form, "name");
  switch (channel) {
    case "email":
      return {
        channel,
        name,
        subject: text(form, "subject"),
        preheader: text(form, "preheader"),
        blocks: indexed(form, "blocks").map((b) => compact(emailBlock(b))),
        trackLinks: text(form, "trackLinks") === "on",
      } as TemplateInput;
    case "sms":
      return {
        channel,
        name,
        text: text(form, "text"),
        dltTemplateId: text(form, "dltTemplateId"),
        dltText: text(form, "dltText"),
        dltRequired: options.dltRequired,
      } as TemplateInput;
    case "telegram":
      return {
        channel,
        name,
        text: text(form, "text"),
        buttons: indexed(form, "buttons").map((b) => ({ text: b.text ?? "", url: b.url ?? "" })),
      } as TemplateInput;
    default:
      return { channel, name } as unknown as TemplateInput;
  }
}

/** `variableMap.<n>` fields: which contact field fills each {{n}} ("" leaves it unmapped). */
export function variableMapFromForm(form: FormData): Record<string, string> {
  const map: Record<string, string> = {};
  for (const [key, value] of form) {
    const m = /^variableMap\.(\d{1,3})$/.exec(key);
    if (m && typeof value === "string") map[m[1]!] = value.trim();
  }
  return map;
}

/** A new WhatsApp template (to submit to Meta) from the editor's form. */
export function whatsappInputFromForm(form: FormData): WhatsAppTemplateInput {
  const exampleValues: string[] = [];
  for (const [key, value] of form) {
    const m = /^examples\[(\d{1,3})\]$/.exec(key);
    if (m && typeof value === "string") exampleValues[Number(m[1])] = value;
  }
  const buttons = indexed(form, "buttons").map(
    (b) =>
      ({
        type: (b.type ?? "").toUpperCase(),
        text: b.text ?? "",
        url: b.url ?? "",
        phoneNumber: b.phoneNumber ?? "",
      }) as WhatsAppButtonInput,
  );
  return {
    name: text(form, "name"),
    language: text(form, "language"),
    category: text(form, "category"),
    headerFormat: optional(text(form, "headerFormat")),
    headerText: optional(text(form, "headerText")),
    headerMediaUrl: optional(text(form, "headerMediaUrl")),
    bodyText: text(form, "bodyText"),
    footerText: optional(text(form, "footerText")),
    buttons,
    examples: Array.from(exampleValues, (v) => v ?? ""),
    variableMap: variableMapFromForm(form),
  };
}
