import { and, asc, eq, inArray, ne, sql } from "drizzle-orm";
import { z } from "zod";
import type { MessageContent } from "~/channels/types";
import { escapeHtml } from "~/lib/html";
import {
  campaigns,
  templates,
  type CampaignStatus,
  type TEMPLATE_STATUSES,
} from "~/db/schema/tenant";
import { CHANNEL_LABELS, type Channel } from "~/lib/channels";
import { ConflictError, NotFoundError, ValidationError, type FieldErrors } from "~/lib/errors";
import { recordAudit } from "../audit/audit.server";
import { listAttributeDefinitions } from "../contacts/attributes.server";
import { getContact } from "../contacts/contacts.server";
import type { WorkspaceContext } from "../context";
import { listIntegrations } from "../delivery/integrations.server";
import {
  blockFields,
  emailDocument,
  emailHtmlFromBlocks,
  EmailBlocksSchema,
  htmlToText,
  unsafeHtml,
  unsafeLinks,
  type EmailBlock,
} from "./email-blocks";
import {
  BUILT_IN_VARIABLE_LABELS,
  BUILT_IN_VARIABLES,
  contactValues,
  formatTemplateError,
  knownVariables,
  mustParse,
  parseTemplate,
  renderTemplate,
  unknownVariableMessage,
  validateVariables,
  type TemplateContact,
  type TemplateValues,
} from "./personalise";
import { checkDltTemplate } from "./sms";
import { checkTelegramHtml, TELEGRAM_MAX_BUTTONS, TELEGRAM_MAX_TEXT } from "./telegram";

/**
 * Message templates: one per channel, written once and rendered per contact into the
 * MessageContent the delivery engine sends. Email, SMS and Telegram templates are written here;
 * WhatsApp rows are written by the Meta sync (whatsapp-sync.server.ts) and only read here.
 * Every text is checked at save time: its `{{ tags }}` parse and name contact fields or custom
 * attributes, so rendering for a recipient never fails.
 */

export type TemplateStatus = (typeof TEMPLATE_STATUSES)[number];

export const MAX_NAME = 100;
export const MAX_SUBJECT = 150;
export const MAX_PREHEADER = 150;
export const MAX_HTML = 200_000;
export const MAX_EMAIL_TEXT = 100_000;
export const MAX_SMS_TEXT = 1600;
export const MAX_DLT_TEXT = 2000;

export interface EmailTemplateContent {
  subject: string;
  preheader: string | null;
  /** The editor's blocks when the body was written as blocks (preferred); null for raw HTML. */
  blocks: EmailBlock[] | null;
  /** The body (a fragment from the blocks, or the HTML as given), with `{{ tags }}`. */
  html: string;
  /** The plain-text part, with `{{ tags }}`. */
  text: string;
  /** The text part was derived from the body (not written by hand). */
  textDerived: boolean;
  /** Whether links may be rewritten for click tracking (the workspace setting also applies). */
  trackLinks: boolean;
}

export interface SmsTemplateContent {
  text: string;
  /** India DLT: the registered template id and its registered text. */
  dltTemplateId: string | null;
  dltText: string | null;
}

export interface TelegramButton {
  text: string;
  url: string;
}

export interface TelegramTemplateContent {
  /** Telegram HTML (parse_mode HTML). */
  text: string;
  /** Inline URL buttons under the message (at most 3). */
  buttons: TelegramButton[];
}

/**
 * Written by the WhatsApp sync. Read here: `variableMap` ({"1": "first_name", ...}: what each
 * body parameter {{n}} is filled with: a variable, or a variable with filters such as
 * `first_name | default: "there"`) and, if present, Meta's `components` (the BODY text's
 * highest {{n}} sets the number of parameters).
 */
export interface WhatsAppTemplateContent {
  variableMap?: Record<string, string>;
  components?: unknown;
  [key: string]: unknown;
}

interface TemplateBase {
  id: number;
  name: string;
  /** WhatsApp: language code; others: "". */
  language: string;
  category: string | null;
  status: TemplateStatus;
  statusReason: string | null;
  externalId: string | null;
  /** Variables the content uses, in order of first use. */
  variables: string[];
  createdAt: Date;
  updatedAt: Date;
  syncedAt: Date | null;
}

export type Template = TemplateBase &
  (
    | { channel: "email"; content: EmailTemplateContent }
    | { channel: "sms"; content: SmsTemplateContent }
    | { channel: "telegram"; content: TelegramTemplateContent }
    | { channel: "whatsapp"; content: WhatsAppTemplateContent }
  );

type TemplateRow = typeof templates.$inferSelect;

function parseJson(value: string, fallback: unknown): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return fallback;
  }
}

function toTemplate(row: TemplateRow): Template {
  const variables = parseJson(row.variables, []);
  const content = parseJson(row.content, {});
  return {
    id: row.id,
    channel: row.channel,
    name: row.name,
    language: row.language,
    category: row.category,
    status: row.status,
    statusReason: row.statusReason,
    externalId: row.externalId,
    content: (content && typeof content === "object" ? content : {}) as never,
    variables: Array.isArray(variables)
      ? variables.filter((v): v is string => typeof v === "string")
      : [],
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    syncedAt: row.syncedAt,
  } as Template;
}

// ---------------------------------------------------------------------------------------------
// Reading

export interface ListTemplatesOptions {
  channel?: Channel;
  status?: TemplateStatus;
}

/** Every template of the workspace (WhatsApp ones included), by channel and name. */
export function listTemplates(
  ctx: WorkspaceContext,
  options: ListTemplatesOptions = {},
): Template[] {
  const filters = [
    options.channel ? eq(templates.channel, options.channel) : undefined,
    options.status ? eq(templates.status, options.status) : undefined,
  ].filter((f) => f !== undefined);
  return ctx.db
    .select()
    .from(templates)
    .where(filters.length ? and(...filters) : undefined)
    .orderBy(asc(templates.channel), asc(sql`lower(${templates.name})`), asc(templates.language))
    .all()
    .map(toTemplate);
}

export interface TemplatePage {
  rows: Template[];
  total: number;
  /** 1-based, clamped to the pages there are. */
  page: number;
  pages: number;
}

/** One page of listTemplates' order (the templates page). */
export function listTemplatePage(
  ctx: WorkspaceContext,
  options: { channel?: Channel; page?: number; pageSize: number },
): TemplatePage {
  const where = options.channel ? eq(templates.channel, options.channel) : undefined;
  const total = ctx.db
    .select({ n: sql<number>`count(*)` })
    .from(templates)
    .where(where)
    .get()!.n;
  const pages = Math.max(1, Math.ceil(total / options.pageSize));
  const page = Math.min(Math.max(1, Math.trunc(options.page ?? 1) || 1), pages);
  const rows = ctx.db
    .select()
    .from(templates)
    .where(where)
    .orderBy(asc(templates.channel), asc(sql`lower(${templates.name})`), asc(templates.language))
    .limit(options.pageSize)
    .offset((page - 1) * options.pageSize)
    .all()
    .map(toTemplate);
  return { rows, total, page, pages };
}

export function getTemplate(ctx: WorkspaceContext, id: number): Template {
  const row = Number.isSafeInteger(id)
    ? ctx.db.select().from(templates).where(eq(templates.id, id)).get()
    : undefined;
  if (!row) throw new NotFoundError("Template", id);
  return toTemplate(row);
}

export interface TemplateVariable {
  key: string;
  label: string;
  kind: "contact" | "attribute";
}

/** What the editor's variable picker offers: contact fields, then custom attributes. */
export function templateVariables(ctx: WorkspaceContext): TemplateVariable[] {
  return [
    ...BUILT_IN_VARIABLES.map((key) => ({
      key,
      label: BUILT_IN_VARIABLE_LABELS[key],
      kind: "contact" as const,
    })),
    ...listAttributeDefinitions(ctx).map((d) => ({
      key: d.key,
      label: d.label,
      kind: "attribute" as const,
    })),
  ];
}

// ---------------------------------------------------------------------------------------------
// Saving

const name = z
  .string({ error: "Give the template a name." })
  .trim()
  .min(1, "Give the template a name.")
  .max(MAX_NAME, `A name can be at most ${MAX_NAME} characters.`);
const optionalText = (max: number, message: string) =>
  z
    .string()
    .max(max, message)
    .nullish()
    .transform((v) => (v && v.trim() ? v : undefined));

const EmailInput = z.object({
  channel: z.literal("email"),
  name,
  subject: z
    .string({ error: "Write a subject." })
    .trim()
    .min(1, "Write a subject.")
    .max(MAX_SUBJECT, `A subject can be at most ${MAX_SUBJECT} characters.`),
  preheader: z
    .string()
    .trim()
    .max(MAX_PREHEADER, `A preheader can be at most ${MAX_PREHEADER} characters.`)
    .nullish()
    .transform((v) => v || undefined),
  /** Preferred: the body as blocks. When given, `html` is ignored. */
  blocks: EmailBlocksSchema.nullish(),
  /** The body as HTML from another editor. */
  html: optionalText(MAX_HTML, "The email is too long (at most 200,000 characters of HTML)."),
  /** The text part; derived from the body when missing. */
  text: optionalText(MAX_EMAIL_TEXT, "The text version is too long."),
  trackLinks: z.boolean().default(true),
});

const SmsInput = z.object({
  channel: z.literal("sms"),
  name,
  text: z
    .string({ error: "Write the message." })
    .trim()
    .min(1, "Write the message.")
    .max(MAX_SMS_TEXT, `An SMS can be at most ${MAX_SMS_TEXT} characters.`),
  /** The workspace's SMS integration sends through India DLT: the DLT fields are required. */
  dltRequired: z.boolean().default(false),
  dltTemplateId: z
    .string()
    .trim()
    .regex(/^\d{6,30}$/, "A DLT template id is a number (usually 19 digits).")
    .or(z.literal(""))
    .nullish()
    .transform((v) => v || undefined),
  dltText: optionalText(MAX_DLT_TEXT, "The registered text is too long."),
});

const TelegramInput = z.object({
  channel: z.literal("telegram"),
  name,
  text: z
    .string({ error: "Write the message." })
    .trim()
    .min(1, "Write the message.")
    .max(
      TELEGRAM_MAX_TEXT * 4,
      `A Telegram message can be at most ${TELEGRAM_MAX_TEXT} characters.`,
    ),
  buttons: z
    .array(
      z.object({
        text: z
          .string({ error: "Write the button text." })
          .trim()
          .min(1, "Write the button text.")
          .max(64, "Button text can be at most 64 characters.")
          .refine((v) => !v.includes("{{"), "Buttons cannot use variables."),
        url: z
          .string({ error: "Enter the button link." })
          .trim()
          .max(2048, "The link is too long.")
          .refine((v) => !v.includes("{{"), "Buttons cannot use variables.")
          .refine(isHttpsUrl, "A button link must be a full https:// address."),
      }),
    )
    .max(TELEGRAM_MAX_BUTTONS, `At most ${TELEGRAM_MAX_BUTTONS} buttons.`)
    .default([]),
});

function isHttpsUrl(value: string): boolean {
  try {
    return new URL(value).protocol === "https:" && !/\s/.test(value);
  } catch {
    return false;
  }
}

export const TemplateInputSchema = z.discriminatedUnion(
  "channel",
  [EmailInput, SmsInput, TelegramInput],
  {
    error: "Templates are for email, SMS or Telegram (WhatsApp templates come from Meta).",
  },
);

/** What a form or the API sends; see the schemas above for limits. */
export type TemplateInput = z.input<typeof TemplateInputSchema>;

/** A zod issue path as a form field name: ["blocks", 2, "url"] -> "blocks[2].url". */
export function fieldName(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || "form";
}

function addError(errors: FieldErrors, field: string, message: string): void {
  const list = (errors[field] ??= []);
  if (!list.includes(message)) list.push(message);
}

/** Checks one text's tags and variables; returns its variables (empty when it has errors). */
function checkText(
  errors: FieldErrors,
  field: string,
  text: string | null | undefined,
  known: ReadonlySet<string>,
): string[] {
  if (!text) return [];
  const parsed = parseTemplate(text);
  if (!parsed.ok) {
    for (const error of parsed.errors.slice(0, 3))
      addError(errors, field, formatTemplateError(error));
    return [];
  }
  for (const unknown of validateVariables(parsed.variables, known)) {
    addError(errors, field, unknownVariableMessage(unknown));
  }
  return parsed.variables;
}

interface Prepared {
  content: EmailTemplateContent | SmsTemplateContent | TelegramTemplateContent;
  variables: string[];
}

function prepare(
  input: z.output<typeof TemplateInputSchema>,
  known: ReadonlySet<string>,
  errors: FieldErrors,
): Prepared {
  const variables: string[] = [];
  const check = (field: string, text: string | null | undefined) => {
    for (const v of checkText(errors, field, text, known))
      if (!variables.includes(v)) variables.push(v);
  };
  switch (input.channel) {
    case "email": {
      check("subject", input.subject);
      check("preheader", input.preheader);
      let html: string;
      let derivedText: string;
      if (input.blocks) {
        input.blocks.forEach((block, i) => {
          for (const [field, value] of blockFields(block)) check(`blocks[${i}].${field}`, value);
          if (block.type === "paragraph") {
            for (const url of unsafeLinks(block.text)) {
              addError(
                errors,
                `blocks[${i}].text`,
                `Links must be full https:// (or http://) addresses: “${url}” is not.`,
              );
            }
          }
        });
        const body = emailHtmlFromBlocks(input.blocks);
        html = body.html;
        derivedText = body.text;
      } else if (input.html) {
        check("html", input.html);
        const unsafe = unsafeHtml(input.html);
        if (unsafe) addError(errors, "html", unsafe);
        html = input.html;
        derivedText = htmlToText(input.html);
      } else {
        addError(errors, "blocks", "Write the email: add at least one block.");
        html = "";
        derivedText = "";
      }
      // A derived text part is checked too: it is what gets rendered.
      check("text", input.text ?? derivedText);
      if (input.blocks && Object.keys(errors).length === 0 && !parseTemplate(html).ok) {
        addError(errors, "blocks", "The email could not be put together; check the variables.");
      }
      return {
        variables,
        content: {
          subject: input.subject,
          preheader: input.preheader ?? null,
          blocks: input.blocks ?? null,
          html,
          text: input.text ?? derivedText,
          textDerived: !input.text,
          trackLinks: input.trackLinks,
        },
      };
    }
    case "sms": {
      check("text", input.text);
      if (input.dltRequired) {
        if (!input.dltTemplateId) {
          addError(errors, "dltTemplateId", "Enter the DLT template id registered for this text.");
        }
        if (!input.dltText) {
          addError(errors, "dltText", "Paste the text exactly as registered on the DLT portal.");
        }
      }
      if (input.dltText && !errors.text) {
        const result = checkDltTemplate(input.text, input.dltText);
        if (!result.ok)
          addError(errors, "text", `Does not match the registered DLT text. ${result.reason}`);
      }
      return {
        variables,
        content: {
          text: input.text,
          dltTemplateId: input.dltTemplateId ?? null,
          dltText: input.dltText ?? null,
        },
      };
    }
    case "telegram": {
      check("text", input.text);
      const markup = checkTelegramHtml(input.text);
      if (!markup.ok) addError(errors, "text", markup.message);
      else if (markup.length > TELEGRAM_MAX_TEXT) {
        addError(
          errors,
          "text",
          `A Telegram message can be at most ${TELEGRAM_MAX_TEXT} characters.`,
        );
      }
      return { variables, content: { text: input.text, buttons: input.buttons } };
    }
  }
}

/**
 * Whether SMS templates must carry India DLT fields: the workspace's SMS account sends with a
 * DLT principal entity id or sender header (operators drop unregistered texts there).
 */
export function smsRequiresDlt(workspaceId: string): boolean {
  const sms = listIntegrations(workspaceId).find((i) => i.channel === "sms");
  return Boolean(sms && (sms.fields.dltEntityId || sms.fields.dltSenderHeader));
}

function fail(errors: FieldErrors): never {
  throw new ValidationError("Check the highlighted fields.", errors);
}

function duplicateName(channel: Channel, templateName: string): FieldErrors {
  return {
    name: [
      `There is already a ${CHANNEL_LABELS[channel]} template called “${templateName}”. Choose another name.`,
    ],
  };
}

function isUniqueViolation(error: unknown): boolean {
  return (
    error instanceof Error &&
    "code" in error &&
    String((error as { code: unknown }).code).startsWith("SQLITE_CONSTRAINT_UNIQUE")
  );
}

/**
 * Creates (no id) or replaces (id) an email, SMS or Telegram template. Throws ValidationError
 * with field errors keyed by form field ("subject", "blocks[2].url", "buttons[0].url", ...):
 * malformed tags, unknown variables, unsafe links or markup, DLT mismatches, a duplicate name.
 */
export function saveTemplate(ctx: WorkspaceContext, input: TemplateInput, id?: number): Template {
  const parsed = TemplateInputSchema.safeParse(input);
  if (!parsed.success) {
    const errors: FieldErrors = {};
    for (const issue of parsed.error.issues) addError(errors, fieldName(issue.path), issue.message);
    fail(errors);
  }
  const value = parsed.data;
  const existing = id === undefined ? null : getTemplate(ctx, id);
  if (existing?.channel === "whatsapp") {
    throw new ValidationError(
      "WhatsApp templates are approved by Meta: edit them in WhatsApp Manager and sync.",
    );
  }
  if (existing && existing.channel !== value.channel) {
    fail({ channel: ["A template's channel cannot change. Create a new template instead."] });
  }

  const known = knownVariables(listAttributeDefinitions(ctx).map((d) => d.key));
  const errors: FieldErrors = {};
  const { content, variables } = prepare(value, known, errors);
  if (Object.keys(errors).length) fail(errors);

  const now = ctx.now();
  let row: TemplateRow;
  try {
    row = ctx.db.transaction(
      (tx) => {
        const clash = tx
          .select({ id: templates.id })
          .from(templates)
          .where(
            and(
              eq(templates.channel, value.channel),
              sql`lower(${templates.name}) = lower(${value.name})`,
              existing ? ne(templates.id, existing.id) : undefined,
            ),
          )
          .get();
        if (clash) fail(duplicateName(value.channel, value.name));
        const fields = {
          name: value.name,
          content: JSON.stringify(content),
          variables: JSON.stringify(variables),
          updatedAt: now,
        };
        if (existing) {
          return tx
            .update(templates)
            .set(fields)
            .where(eq(templates.id, existing.id))
            .returning()
            .get()!;
        }
        return tx
          .insert(templates)
          .values({
            ...fields,
            channel: value.channel,
            language: "",
            status: "ready",
            createdAt: now,
          })
          .returning()
          .get();
      },
      { behavior: "immediate" },
    );
  } catch (error) {
    if (isUniqueViolation(error)) fail(duplicateName(value.channel, value.name));
    throw error;
  }
  recordAudit(ctx, {
    action: existing ? "template.updated" : "template.created",
    workspaceId: ctx.workspaceId,
    target: { type: "template", id: row.id },
    details: { channel: row.channel, name: row.name },
  });
  return toTemplate(row);
}

/** Campaigns in these states still need their templates. */
export const ACTIVE_CAMPAIGN_STATUSES: readonly CampaignStatus[] = [
  "draft",
  "pending_approval",
  "scheduled",
  "queuing",
  "sending",
  "testing",
  "paused",
];

const CAMPAIGN_STATUS_WORDS: Partial<Record<CampaignStatus, string>> = {
  pending_approval: "waiting for approval",
  testing: "testing variants",
};

/**
 * Deletes an email, SMS or Telegram template unless a campaign that has not finished uses it
 * (ConflictError naming the campaigns). WhatsApp templates are removed by the sync.
 */
export function deleteTemplate(ctx: WorkspaceContext, id: number): void {
  const template = getTemplate(ctx, id);
  if (template.channel === "whatsapp") {
    throw new ValidationError(
      "WhatsApp templates are managed by Meta: delete it in WhatsApp Manager and sync.",
    );
  }
  ctx.db.transaction(
    (tx) => {
      // campaigns belongs to the campaigns area; read here until it offers "campaigns using".
      const users = tx
        .select({ name: campaigns.name, status: campaigns.status })
        .from(campaigns)
        .where(
          and(
            inArray(campaigns.status, [...ACTIVE_CAMPAIGN_STATUSES]),
            sql`EXISTS (SELECT 1 FROM json_each(${campaigns.variants}) AS v
                WHERE CAST(json_extract(v.value, '$.templateId') AS INTEGER) = ${id})`,
          ),
        )
        .orderBy(asc(campaigns.id))
        .all();
      if (users.length) {
        const named = users
          .slice(0, 3)
          .map((c) => `“${c.name}” (${CAMPAIGN_STATUS_WORDS[c.status] ?? c.status})`)
          .join(", ");
        const more = users.length > 3 ? ` and ${users.length - 3} more` : "";
        throw new ConflictError(
          `“${template.name}” is used by ${users.length === 1 ? "the campaign" : "the campaigns"} ${named}${more}. ` +
            "Choose another template there, or finish or cancel the campaign, before deleting it.",
        );
      }
      tx.delete(templates).where(eq(templates.id, id)).run();
    },
    { behavior: "immediate" },
  );
  recordAudit(ctx, {
    action: "template.deleted",
    workspaceId: ctx.workspaceId,
    target: { type: "template", id },
    details: { channel: template.channel, name: template.name },
  });
}

// ---------------------------------------------------------------------------------------------
// Rendering

type Renderer = (values: TemplateValues) => MessageContent;
const renderers = new WeakMap<Template, Renderer>();

const oneLine = (value: string) => value.replace(/\s*[\r\n]+\s*/g, " ").trim();

/** A media header's file (the sample it was reviewed with), sent with every message. */
function mediaHeaderOf(
  content: WhatsAppTemplateContent,
): { format: "image" | "video" | "document"; link: string } | null {
  const header = (Array.isArray(content.components) ? content.components : []).find(
    (c: { type?: unknown }) => String(c?.type).toUpperCase() === "HEADER",
  ) as { format?: unknown; example?: { header_handle?: unknown } } | undefined;
  const format = String(header?.format ?? "").toLowerCase();
  if (format !== "image" && format !== "video" && format !== "document") return null;
  const handles = header?.example?.header_handle;
  const link = Array.isArray(handles) && typeof handles[0] === "string" ? handles[0] : "";
  return /^https:\/\//.test(link) ? { format, link } : null;
}

/** WhatsApp rejects parameters with line breaks, tabs or more than 4 spaces in a row. */
const whatsappParam = (value: string) =>
  value
    .replace(/[\r\n\t]+/g, " ")
    .replace(/ {5,}/g, "    ")
    .trim();

function whatsappParamCount(content: WhatsAppTemplateContent): number {
  let count = 0;
  for (const key of Object.keys(content.variableMap ?? {})) {
    if (/^[1-9]\d{0,2}$/.test(key)) count = Math.max(count, Number(key));
  }
  if (Array.isArray(content.components)) {
    for (const component of content.components as unknown[]) {
      const c = component as { type?: unknown; text?: unknown };
      if (String(c?.type).toUpperCase() === "BODY" && typeof c.text === "string") {
        for (const m of c.text.matchAll(/\{\{\s*(\d{1,3})\s*\}\}/g)) {
          count = Math.max(count, Number(m[1]));
        }
      }
    }
  }
  return count;
}

function compile(template: Template): Renderer {
  switch (template.channel) {
    case "email": {
      const c = template.content;
      const subject = mustParse(c.subject);
      const preheader = c.preheader ? mustParse(c.preheader) : null;
      const body = mustParse(c.html);
      const text = mustParse(c.text);
      return (values) => {
        const renderedSubject = oneLine(renderTemplate(subject, values));
        return {
          channel: "email",
          subject: renderedSubject,
          html: emailDocument({
            bodyHtml: renderTemplate(body, values, { escapeHtml: true }),
            preheaderHtml: preheader ? renderTemplate(preheader, values, { escapeHtml: true }) : "",
            titleHtml: escapeHtml(renderedSubject),
          }),
          text: renderTemplate(text, values),
        };
      };
    }
    case "sms": {
      const c = template.content;
      const text = mustParse(c.text);
      return (values) => ({
        channel: "sms",
        text: renderTemplate(text, values),
        ...(c.dltTemplateId ? { dltTemplateId: c.dltTemplateId } : {}),
      });
    }
    case "telegram": {
      const text = mustParse(template.content.text);
      const buttons = template.content.buttons;
      return (values) => ({
        channel: "telegram",
        text: renderTemplate(text, values, { escapeHtml: true }),
        parseMode: "HTML",
        ...(buttons.length ? { buttons } : {}),
      });
    }
    case "whatsapp": {
      const c = template.content;
      const map = c.variableMap ?? {};
      const params = Array.from({ length: whatsappParamCount(c) }, (_, i) => {
        const source = map[String(i + 1)]?.trim();
        if (!source) return null;
        // The sync checks the map; a value it let through that does not parse renders "".
        const parsed = parseTemplate(source.includes("{{") ? source : `{{ ${source} }}`);
        return parsed.ok ? parsed : null;
      });
      const header = mediaHeaderOf(c);
      return (values) => ({
        channel: "whatsapp",
        type: "template",
        name: template.name,
        language: template.language,
        bodyParams: params.map((p) => (p ? whatsappParam(renderTemplate(p, values)) : "")),
        ...(header ? { header } : {}),
      });
    }
  }
}

/**
 * The MessageContent the delivery engine sends to this contact. Compiled once per template
 * object (pass the same object for every recipient of a campaign). Does not check the
 * template's status: see `sendableReason`.
 */
export function renderForContact(
  _ctx: WorkspaceContext,
  template: Template,
  contact: TemplateContact,
): MessageContent {
  let render = renderers.get(template);
  if (!render) {
    render = compile(template);
    renderers.set(template, render);
  }
  return render(contactValues(contact));
}

/** Why a template cannot be sent now (WhatsApp: not approved by Meta), or null. */
export function sendableReason(template: Template): string | null {
  if (template.channel === "whatsapp") {
    return template.status === "approved"
      ? null
      : `The WhatsApp template “${template.name}” (${template.language}) is ${template.status}, not approved by Meta.`;
  }
  return template.status === "ready"
    ? null
    : `The template “${template.name}” is ${template.status}.`;
}

/** Stands in for a contact in previews when none is chosen. */
export const SAMPLE_CONTACT: TemplateContact = {
  name: "Priya Sharma",
  email: "priya@example.com",
  phone: "+919876500000",
  country: "IN",
  attributes: {},
};

/** The content as this contact (or SAMPLE_CONTACT) would receive it. */
export function previewTemplate(
  ctx: WorkspaceContext,
  id: number,
  contactId?: number | null,
): MessageContent {
  const template = getTemplate(ctx, id);
  const contact = contactId == null ? SAMPLE_CONTACT : getContact(ctx, contactId);
  return renderForContact(ctx, template, contact);
}
