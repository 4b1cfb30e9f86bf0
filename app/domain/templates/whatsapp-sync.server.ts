import { workspaceContextFor } from "../workspaces/access.server";
import { BUILT_IN_VARIABLES, knownVariables } from "./personalise";
import { and, asc, eq, inArray } from "drizzle-orm";
import {
  ProviderError,
  type ChannelAdapter,
  type ProviderTemplate,
  type TemplateApi,
  type TemplateComponent,
} from "~/channels/types";
import { getControlDb } from "~/db/control.server";
import { integrations, workspaces } from "~/db/schema/control";
import { attributeDefinitions, templates, type TEMPLATE_STATUSES } from "~/db/schema/tenant";
import { withTenantDb } from "~/db/tenants.server";
import { AppError, NotFoundError, ValidationError, type FieldErrors } from "~/lib/errors";
import { logger as defaultLogger, type Logger } from "~/lib/logger.server";
import { recordAudit } from "../audit/audit.server";
import type { WorkspaceContext } from "../context";
import { createSandboxAdapter, SANDBOX_TEMPLATE_PREFIX } from "~/channels/sandbox/adapter.server";
import { systemContext } from "../context";
import type { DueHook } from "../delivery/dispatcher.server";
import { integrationForChannel } from "../delivery/integrations.server";
import { markDue } from "../delivery/outbox.server";
import { MEDIA_HEADER_FORMATS, reviewWhatsAppTemplate } from "./whatsapp-review";

/**
 * WhatsApp templates: Meta reviews every template a business may send outside the 24-hour
 * window, so the `templates` rows of channel "whatsapp" mirror the WABA's templates on Meta.
 * `syncWhatsAppTemplates` pulls them (status, components; a template gone from Meta is marked
 * disabled, never deleted: campaigns may reference it); `submitWhatsAppTemplate` sends a new one
 * for review. Each body placeholder {{n}} is mapped to a contact field or a custom attribute key
 * (content.variableMap); the mapping is ours, so it survives re-syncs.
 *
 * Stored shape: category as Meta spells it (MARKETING, UTILITY, AUTHENTICATION); language as
 * Meta's code (en, en_US); content = {components (Meta's JSON), variableMap {"1": "first_name"}};
 * variables = the mapped fields in placeholder order, without repeats.
 */

export type TemplateStatus = (typeof TEMPLATE_STATUSES)[number];

/** Contact fields a variable can take: personalise.ts's built-ins, then custom attribute keys. */
export const BUILT_IN_VARIABLE_FIELDS = BUILT_IN_VARIABLES;

export const TEMPLATE_CATEGORIES = ["MARKETING", "UTILITY"] as const;
export type WhatsAppTemplateCategory = (typeof TEMPLATE_CATEGORIES)[number];

export const MAX_TEMPLATE_NAME = 512;
export const MAX_BODY_TEXT = 1024;
export const MAX_HEADER_TEXT = 60;
export const MAX_FOOTER_TEXT = 60;
export const MAX_BUTTON_TEXT = 25;
export const MAX_BUTTONS = 10;
const MAX_URL = 2000;
const MAX_EXAMPLE = 200;

const NAME_PATTERN = /^[a-z0-9_]+$/;
/** Meta's language codes: "en", "hi", "en_US", "pt_BR", "zh_HK". */
const LANGUAGE_PATTERN = /^[a-z]{2,3}(_[A-Z]{2,4})?$/;
const PLACEHOLDER = /\{\{(\d+)\}\}/g;
const ANY_BRACES = /\{\{([^{}]*)\}\}/g;

/** Why a row is disabled after its template disappeared from Meta. */
export const REMOVED_ON_META_REASON =
  "No longer on Meta: deleted in WhatsApp Manager or from another tool";
/** Why a sandbox template stops when a real WhatsApp account is connected. */
export const SANDBOX_ONLY_REASON =
  "Reviewed in the sandbox only: submit it again to send it through your WhatsApp account";

/** How long the sandbox's simulated review takes, ms. */
export const SANDBOX_REVIEW_MS = 5_000;

export type VariableMap = Record<string, string>;

export interface WhatsAppTemplateContent {
  components: TemplateComponent[];
  variableMap: VariableMap;
}

export interface WhatsAppTemplate {
  id: number;
  name: string;
  language: string;
  category: string | null;
  status: TemplateStatus;
  statusReason: string | null;
  externalId: string | null;
  /** Submitted to the sandbox (no WhatsApp account connected), reviewed there. */
  sandbox: boolean;
  components: TemplateComponent[];
  variableMap: VariableMap;
  /** The mapped fields, in placeholder order, no repeats. */
  variables: string[];
  /** The highest {{n}} in the body: the body takes parameters 1..n. */
  placeholders: number;
  createdAt: Date;
  updatedAt: Date;
  syncedAt: Date | null;
}

export interface SyncResult {
  added: number;
  updated: number;
  unchanged: number;
  /** Rows marked disabled because their template is no longer on Meta. */
  removed: number;
}

/** Talking to Meta failed (unreachable, token revoked, ...); the message says why. */
export class WhatsAppTemplateError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 502, "whatsapp_failed");
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

type Row = typeof templates.$inferSelect;

// --- pure helpers -----------------------------------------------------------------------------

/** Meta's review state as ours. Unknown states cannot send, so they read as disabled. */
export function mapMetaStatus(
  status: string,
  rejectedReason?: string,
): { status: TemplateStatus; reason: string | null } {
  switch (status.toUpperCase()) {
    case "APPROVED":
      return { status: "approved", reason: null };
    case "PENDING":
    case "IN_APPEAL":
      return { status: "pending", reason: null };
    case "REJECTED":
      return { status: "rejected", reason: rejectedReason ?? null };
    case "PAUSED":
      return { status: "paused", reason: null };
    case "DISABLED":
      return { status: "disabled", reason: null };
    case "PENDING_DELETION":
    case "DELETED":
    case "ARCHIVED":
      return { status: "disabled", reason: `Meta status ${status.toUpperCase()}` };
    default:
      return { status: "disabled", reason: `Meta status ${status}` };
  }
}

function bodyText(components: readonly TemplateComponent[]): string {
  const body = components.find((c) => c.type.toUpperCase() === "BODY");
  return typeof body?.text === "string" ? body.text : "";
}

/** The placeholder numbers used in a text, ascending, without repeats. */
function placeholdersIn(text: string): number[] {
  const seen = new Set<number>();
  for (const m of text.matchAll(PLACEHOLDER)) seen.add(Number(m[1]));
  return [...seen].sort((a, b) => a - b);
}

/** The highest {{n}} in the BODY component (0: no parameters). */
export function bodyPlaceholderCount(components: readonly TemplateComponent[]): number {
  return placeholdersIn(bodyText(components)).at(-1) ?? 0;
}

/** The mapped fields in placeholder order, without repeats (the `variables` column). */
export function variablesOf(variableMap: VariableMap): string[] {
  const fields = Object.entries(variableMap)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([, field]) => field);
  return [...new Set(fields)];
}

/** Placeholders of the body that no field is mapped to yet: a campaign cannot fill them. */
export function unmappedVariables(
  template: Pick<WhatsAppTemplate, "components" | "variableMap">,
): number[] {
  const count = bodyPlaceholderCount(template.components);
  const out: number[] = [];
  for (let n = 1; n <= count; n++) if (!template.variableMap[String(n)]) out.push(n);
  return out;
}

/** Only an approved template may open a conversation (outside the 24-hour window). */
export function canStartConversation(template: { status: string }): boolean {
  return template.status === "approved";
}

function parseContent(raw: string): WhatsAppTemplateContent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = {};
  }
  const obj = (typeof parsed === "object" && parsed !== null ? parsed : {}) as {
    components?: unknown;
    variableMap?: unknown;
  };
  const components = Array.isArray(obj.components)
    ? obj.components.filter(
        (c): c is TemplateComponent =>
          typeof c === "object" && c !== null && typeof (c as { type?: unknown }).type === "string",
      )
    : [];
  const variableMap: VariableMap = {};
  if (typeof obj.variableMap === "object" && obj.variableMap !== null) {
    for (const [k, v] of Object.entries(obj.variableMap)) {
      if (/^\d+$/.test(k) && typeof v === "string" && v !== "") variableMap[k] = v;
    }
  }
  return { components, variableMap };
}

function toTemplate(row: Row): WhatsAppTemplate {
  const { components, variableMap } = parseContent(row.content);
  return {
    id: row.id,
    name: row.name,
    language: row.language,
    category: row.category,
    status: row.status,
    statusReason: row.statusReason,
    externalId: row.externalId,
    sandbox: isSandboxTemplate(row),
    components,
    variableMap,
    variables: variablesOf(variableMap),
    placeholders: bodyPlaceholderCount(components),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    syncedAt: row.syncedAt,
  };
}

export function isSandboxTemplate(row: { externalId: string | null }): boolean {
  return row.externalId?.startsWith(`${SANDBOX_TEMPLATE_PREFIX}_`) ?? false;
}

/** The stored content: the map sorted by placeholder, so equal maps serialise equally. */
function contentJson(components: TemplateComponent[], variableMap: VariableMap): string {
  const sorted: VariableMap = {};
  for (const key of Object.keys(variableMap).sort((a, b) => Number(a) - Number(b))) {
    sorted[key] = variableMap[key]!;
  }
  return JSON.stringify({ components, variableMap: sorted });
}

// --- reads ------------------------------------------------------------------------------------

export function listWhatsAppTemplates(ctx: WorkspaceContext): WhatsAppTemplate[] {
  return ctx.db
    .select()
    .from(templates)
    .where(eq(templates.channel, "whatsapp"))
    .orderBy(asc(templates.name), asc(templates.language))
    .all()
    .map(toTemplate);
}

export function getWhatsAppTemplate(ctx: WorkspaceContext, id: number): WhatsAppTemplate {
  const row = ctx.db
    .select()
    .from(templates)
    .where(and(eq(templates.id, id), eq(templates.channel, "whatsapp")))
    .get();
  if (!row) throw new NotFoundError("WhatsApp template", id);
  return toTemplate(row);
}

// --- Meta -------------------------------------------------------------------------------------

const sandboxAdapter = createSandboxAdapter("whatsapp");

/** The connected account's template API, or the sandbox's when none is connected. */
function templateApi(ctx: WorkspaceContext): {
  api: TemplateApi;
  adapter: ChannelAdapter;
  integrationId: string | null;
} {
  const integration = integrationForChannel(ctx.workspaceId, "whatsapp");
  if (!integration) {
    return { api: sandboxAdapter.templates!, adapter: sandboxAdapter, integrationId: null };
  }
  const api = integration.adapter.templates;
  if (!api) {
    throw new ValidationError("This WhatsApp connection cannot manage templates.");
  }
  return { api, adapter: integration.adapter, integrationId: integration.id };
}

function failure(action: string, error: unknown, adapter: ChannelAdapter): WhatsAppTemplateError {
  const reason = adapter.classify(error).reason;
  return new WhatsAppTemplateError(`Could not ${action}: ${reason}`, { cause: error });
}

// --- sync -------------------------------------------------------------------------------------

/**
 * Pulls every template of the workspace's WABA into `templates`: new ones are added (no
 * variables mapped yet), changed ones updated (the variable mapping is kept for placeholders
 * that still exist), and rows whose template Meta no longer lists are marked disabled.
 */
export async function syncWhatsAppTemplates(ctx: WorkspaceContext): Promise<SyncResult> {
  const { api, adapter, integrationId } = templateApi(ctx);
  if (integrationId === null) {
    // The sandbox: its "account" is these rows; syncing gives any finished review its verdict.
    const { reviewed } = reviewSandboxTemplates(ctx);
    return { added: 0, updated: reviewed, unchanged: 0, removed: 0 };
  }
  // A template submitted while the list was being read is not in it, yet not gone from Meta.
  const listedFrom = ctx.now().getTime();
  let remote: ProviderTemplate[];
  try {
    remote = await api.list();
  } catch (error) {
    throw failure("read the templates from WhatsApp", error, adapter);
  }
  // Name + language is unique in a WABA (and in our table); the last copy wins if Meta repeats.
  const byKey = new Map<string, ProviderTemplate>();
  for (const t of remote) byKey.set(`${t.name}\u0000${t.language}`, t);

  const now = ctx.now();
  const result: SyncResult = { added: 0, updated: 0, unchanged: 0, removed: 0 };
  ctx.db.transaction((tx) => {
    const rows = tx.select().from(templates).where(eq(templates.channel, "whatsapp")).all();
    const existing = new Map(rows.map((r) => [`${r.name}\u0000${r.language}`, r]));
    const seen = new Set<number>();

    for (const [key, t] of byKey) {
      const mapped = mapMetaStatus(t.status, t.rejectedReason);
      const category = t.category ? t.category.toUpperCase() : null;
      const row = existing.get(key);
      if (!row) {
        tx.insert(templates)
          .values({
            channel: "whatsapp",
            name: t.name,
            language: t.language,
            category,
            status: mapped.status,
            statusReason: mapped.reason,
            externalId: t.id,
            content: contentJson(t.components, {}),
            variables: "[]",
            createdAt: now,
            updatedAt: now,
            syncedAt: now,
          })
          .run();
        result.added += 1;
        continue;
      }
      seen.add(row.id);
      const count = bodyPlaceholderCount(t.components);
      const variableMap: VariableMap = {};
      for (const [n, field] of Object.entries(parseContent(row.content).variableMap)) {
        if (Number(n) >= 1 && Number(n) <= count) variableMap[n] = field;
      }
      const content = contentJson(t.components, variableMap);
      const variables = JSON.stringify(variablesOf(variableMap));
      const changed =
        row.category !== category ||
        row.status !== mapped.status ||
        row.statusReason !== mapped.reason ||
        row.externalId !== t.id ||
        row.content !== content ||
        row.variables !== variables;
      tx.update(templates)
        .set(
          changed
            ? {
                category,
                status: mapped.status,
                statusReason: mapped.reason,
                externalId: t.id,
                content,
                variables,
                updatedAt: now,
                syncedAt: now,
              }
            : { syncedAt: now },
        )
        .where(eq(templates.id, row.id))
        .run();
      if (changed) result.updated += 1;
      else result.unchanged += 1;
    }

    // Gone from Meta: only rows that came from (or went to) Meta, not drafts written here, and
    // not rows written since the list was read (a submission racing this sync).
    const gone = rows
      .filter(
        (r) =>
          !seen.has(r.id) &&
          r.externalId !== null &&
          r.status !== "disabled" &&
          r.status !== "draft" &&
          r.updatedAt.getTime() < listedFrom,
      )
      .map((r) => r.id);
    if (gone.length > 0) {
      for (const reason of [REMOVED_ON_META_REASON, SANDBOX_ONLY_REASON]) {
        const ids = gone.filter(
          (id) =>
            isSandboxTemplate(rows.find((r) => r.id === id)!) === (reason === SANDBOX_ONLY_REASON),
        );
        if (ids.length === 0) continue;
        tx.update(templates)
          .set({ status: "disabled", statusReason: reason, updatedAt: now, syncedAt: now })
          .where(inArray(templates.id, ids))
          .run();
      }
      result.removed = gone.length;
    }
  });

  // The scheduled sync runs every 30 minutes: only changes (or a person's sync) are worth a row.
  if (ctx.actor.type !== "system" || result.added + result.updated + result.removed > 0) {
    recordAudit(ctx, {
      action: "template.synced",
      workspaceId: ctx.workspaceId,
      target: { type: "integration", id: integrationId ?? "sandbox" },
      details: { ...result },
    });
  }
  return result;
}

// --- variables --------------------------------------------------------------------------------

function knownFields(ctx: WorkspaceContext): Set<string> {
  const keys = ctx.db.select({ key: attributeDefinitions.key }).from(attributeDefinitions).all();
  return knownVariables(keys.map((k) => k.key));
}

/**
 * Checks a {{n}} → field map against a body with `count` placeholders. Keys are "1".."n" (or
 * "{{1}}"); values a built-in contact field or a custom attribute key; an empty value leaves the
 * placeholder unmapped. Returns the cleaned map, or field errors keyed `variableMap.<n>`.
 */
function checkVariableMap(
  ctx: WorkspaceContext,
  input: unknown,
  count: number,
  errors: FieldErrors,
): VariableMap {
  const out: VariableMap = {};
  if (input === undefined || input === null) return out;
  if (typeof input !== "object" || Array.isArray(input)) {
    errors.variableMap = ["Map each variable ({{1}}, {{2}}, ...) to a contact field."];
    return out;
  }
  const fields = knownFields(ctx);
  for (const [rawKey, rawValue] of Object.entries(input as Record<string, unknown>)) {
    const key = rawKey.trim().replace(/^\{\{\s*(\d+)\s*\}\}$/, "$1");
    const n = /^\d+$/.test(key) ? Number(key) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > count) {
      (errors.variableMap ??= []).push(
        count === 0
          ? `The body has no variables, so {{${rawKey}}} cannot be mapped.`
          : `{{${rawKey}}} is not a variable of this body; it uses {{1}} to {{${count}}}.`,
      );
      continue;
    }
    if (rawValue === undefined || rawValue === null || rawValue === "") continue;
    const value = typeof rawValue === "string" ? rawValue.trim() : "";
    if (!fields.has(value)) {
      errors[`variableMap.${n}`] = [
        `{{${n}}}: “${String(rawValue)}” is not a contact field. Use ${BUILT_IN_VARIABLE_FIELDS.join(", ")} or a custom attribute key.`,
      ];
      continue;
    }
    out[String(n)] = value;
  }
  return out;
}

/** Sets which contact field fills each {{n}} of a WhatsApp template's body. */
export function mapTemplateVariables(
  ctx: WorkspaceContext,
  templateId: number,
  variableMap: Record<string, string>,
): WhatsAppTemplate {
  const row = ctx.db
    .select()
    .from(templates)
    .where(and(eq(templates.id, templateId), eq(templates.channel, "whatsapp")))
    .get();
  if (!row) throw new NotFoundError("WhatsApp template", templateId);
  const { components } = parseContent(row.content);
  const errors: FieldErrors = {};
  const map = checkVariableMap(ctx, variableMap, bodyPlaceholderCount(components), errors);
  throwIfErrors(errors);
  const now = ctx.now();
  const updated = ctx.db
    .update(templates)
    .set({
      content: contentJson(components, map),
      variables: JSON.stringify(variablesOf(map)),
      updatedAt: now,
    })
    .where(eq(templates.id, row.id))
    .returning()
    .get();
  recordAudit(ctx, {
    action: "template.variables_mapped",
    workspaceId: ctx.workspaceId,
    target: { type: "template", id: row.id },
    details: { name: row.name, language: row.language, variableMap: map },
  });
  return toTemplate(updated);
}

function throwIfErrors(errors: FieldErrors): void {
  const first = Object.values(errors)[0]?.[0];
  if (first !== undefined) throw new ValidationError(first, errors);
}

// --- submit -----------------------------------------------------------------------------------

export type WhatsAppButtonInput =
  | { type: "QUICK_REPLY"; text: string }
  | { type: "URL"; text: string; url: string }
  | { type: "PHONE_NUMBER"; text: string; phoneNumber: string };

export interface WhatsAppTemplateInput {
  /** Lower-case letters, digits and underscores, e.g. "order_shipped". */
  name: string;
  /** Meta's language code, e.g. "en", "en_US", "hi". */
  language: string;
  /** MARKETING or UTILITY (any case). */
  category: string;
  /** The message, with numbered variables {{1}}..{{n}}. */
  bodyText: string;
  /** TEXT (headerText) or a media header: IMAGE, VIDEO or DOCUMENT (headerMediaUrl). */
  headerFormat?: string;
  headerText?: string;
  /** A media header's sample file (https); also what is sent with each message. */
  headerMediaUrl?: string;
  footerText?: string;
  buttons?: WhatsAppButtonInput[];
  /** One sample value per body variable, in order: Meta reviews the template with them. */
  examples: string[];
  /** {{n}} → contact field or custom attribute key; may be set later. */
  variableMap?: Record<string, string>;
}

function checkName(raw: unknown, errors: FieldErrors): string {
  const name = typeof raw === "string" ? raw.trim() : "";
  if (name === "") errors.name = ["Give the template a name, e.g. order_shipped."];
  else if (name.length > MAX_TEMPLATE_NAME) {
    errors.name = [`The name can be at most ${MAX_TEMPLATE_NAME} characters long.`];
  } else if (!NAME_PATTERN.test(name)) {
    errors.name = [
      "Use only lower-case letters, digits and underscores in the name (e.g. order_shipped).",
    ];
  }
  return name;
}

/** Text for a HEADER / FOOTER: no variables (we do not collect samples for them). */
function checkShortText(
  raw: unknown,
  field: "headerText" | "footerText",
  label: string,
  max: number,
  errors: FieldErrors,
): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  const text = typeof raw === "string" ? raw.trim() : "";
  if (text === "") return undefined;
  if (text.length > max) errors[field] = [`The ${label} can be at most ${max} characters long.`];
  else if (/\{\{|\}\}/.test(text)) {
    errors[field] = [`The ${label} cannot contain variables; put them in the body.`];
  } else if (/\n/.test(text)) errors[field] = [`The ${label} must be a single line.`];
  return text;
}

export type HeaderInput =
  { format: "TEXT"; text: string } | { format: (typeof MEDIA_HEADER_FORMATS)[number]; url: string };

const MEDIA_NOUN: Record<string, string> = { IMAGE: "image", VIDEO: "video", DOCUMENT: "document" };

/** The header: none, a line of text, or an image / video / document given by its https address. */
function checkHeader(
  input: WhatsAppTemplateInput,
  errors: FieldErrors,
  sandbox: boolean,
): HeaderInput | undefined {
  const format =
    typeof input.headerFormat === "string" && input.headerFormat.trim() !== ""
      ? input.headerFormat.trim().toUpperCase()
      : "TEXT";
  if (format === "NONE") return undefined;
  if (format === "TEXT") {
    const text = checkShortText(input.headerText, "headerText", "header", MAX_HEADER_TEXT, errors);
    return text ? { format, text } : undefined;
  }
  if (!(MEDIA_HEADER_FORMATS as readonly string[]).includes(format)) {
    errors.headerFormat = ["Choose a header: none, text, image, video or document."];
    return undefined;
  }
  const noun = MEDIA_NOUN[format]!;
  if (!sandbox) {
    // Meta reviews a media header with a file uploaded to it first (an upload handle, not a link).
    errors.headerFormat = [
      `Templates with ${noun === "image" ? "an" : "a"} ${noun} header are made in WhatsApp Manager, where Meta takes the sample file; then sync them here.`,
    ];
    return undefined;
  }
  const url = typeof input.headerMediaUrl === "string" ? input.headerMediaUrl.trim() : "";
  let ok = false;
  try {
    ok = new URL(url).protocol === "https:" && url.length <= MAX_URL;
  } catch {
    ok = false;
  }
  if (!ok) {
    errors.headerMediaUrl = [`Give the ${noun}'s full web address, starting with https://.`];
    return undefined;
  }
  return { format: format as HeaderInput["format"] & string, url } as HeaderInput;
}

function checkBody(raw: unknown, errors: FieldErrors): { text: string; count: number } {
  const text = typeof raw === "string" ? raw.trim() : "";
  if (text === "") {
    errors.bodyText = ["Write the message body."];
    return { text, count: 0 };
  }
  if (text.length > MAX_BODY_TEXT) {
    errors.bodyText = [
      `The body can be at most ${MAX_BODY_TEXT} characters long (it has ${text.length}).`,
    ];
    return { text, count: 0 };
  }
  for (const m of text.matchAll(ANY_BRACES)) {
    if (!/^\d+$/.test(m[1] ?? "")) {
      errors.bodyText = [
        `Variables are numbered: use {{1}}, {{2}}, ... instead of {{${m[1] ?? ""}}}.`,
      ];
      return { text, count: 0 };
    }
  }
  const numbers = placeholdersIn(text);
  const count = numbers.at(-1) ?? 0;
  const missing = [];
  for (let n = 1; n <= count; n++) if (!numbers.includes(n)) missing.push(`{{${n}}}`);
  if (missing.length > 0) {
    errors.bodyText = [
      `Number the variables from {{1}} without gaps: ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} missing.`,
    ];
    return { text, count };
  }
  if (/^\{\{\d+\}\}/.test(text) || /\{\{\d+\}\}$/.test(text)) {
    errors.bodyText = ["WhatsApp does not allow a variable at the very start or end of the body."];
  }
  return { text, count };
}

function checkExamples(raw: unknown, count: number, errors: FieldErrors): string[] {
  const list = Array.isArray(raw) ? raw : [];
  const values = list.map((v) => (typeof v === "string" ? v.trim() : ""));
  if (!Array.isArray(raw) && raw !== undefined) {
    errors.examples = ["Give the sample values as a list."];
  } else if (values.length !== count) {
    errors.examples = [
      count === 0
        ? `The body has no variables, so it needs no sample values (${values.length} given).`
        : `Give one sample value for each variable: the body has ${count}, ${values.length} ${values.length === 1 ? "was" : "were"} given.`,
    ];
  } else {
    values.forEach((v, i) => {
      if (v === "") errors[`examples.${i + 1}`] = [`Give a sample value for {{${i + 1}}}.`];
      else if (v.length > MAX_EXAMPLE) {
        errors[`examples.${i + 1}`] = [
          `The sample for {{${i + 1}}} can be at most ${MAX_EXAMPLE} characters long.`,
        ];
      } else if (/[\n\t]|\s{4,}/.test(v)) {
        errors[`examples.${i + 1}`] = [
          `The sample for {{${i + 1}}} cannot contain line breaks, tabs or 4+ spaces in a row.`,
        ];
      }
    });
  }
  return values;
}

function checkButtons(raw: unknown, errors: FieldErrors): Record<string, unknown>[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    errors.buttons = ["Give the buttons as a list."];
    return [];
  }
  if (raw.length > MAX_BUTTONS) {
    errors.buttons = [`A template can have at most ${MAX_BUTTONS} buttons.`];
    return [];
  }
  const out: Record<string, unknown>[] = [];
  let urls = 0;
  let phones = 0;
  raw.forEach((value: unknown, i) => {
    const key = `buttons.${i + 1}`;
    const b = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
    const type = typeof b.type === "string" ? b.type.toUpperCase() : "";
    const text = typeof b.text === "string" ? b.text.trim() : "";
    if (text === "" || text.length > MAX_BUTTON_TEXT) {
      errors[key] = [`Button ${i + 1}: give it a label of at most ${MAX_BUTTON_TEXT} characters.`];
      return;
    }
    if (/\{\{|\}\}/.test(text)) {
      errors[key] = [`Button ${i + 1}: the label cannot contain variables.`];
      return;
    }
    if (type === "QUICK_REPLY") {
      out.push({ type, text });
    } else if (type === "URL") {
      urls += 1;
      const url = typeof b.url === "string" ? b.url.trim() : "";
      let ok = false;
      try {
        const parsed = new URL(url);
        ok = (parsed.protocol === "https:" || parsed.protocol === "http:") && url.length <= MAX_URL;
      } catch {
        ok = false;
      }
      if (!ok) {
        errors[key] = [`Button ${i + 1}: give a full web address (https://...).`];
      } else if (/\{\{|\}\}/.test(url)) {
        errors[key] = [`Button ${i + 1}: the web address cannot contain variables.`];
      } else out.push({ type, text, url });
    } else if (type === "PHONE_NUMBER") {
      phones += 1;
      const phone = typeof b.phoneNumber === "string" ? b.phoneNumber.trim() : "";
      if (!/^\+?[1-9]\d{6,19}$/.test(phone)) {
        errors[key] = [
          `Button ${i + 1}: give the phone number with its country code, e.g. +919876543210.`,
        ];
      } else out.push({ type, text, phone_number: phone.replace(/^\+/, "") });
    } else {
      errors[key] = [`Button ${i + 1}: the type must be QUICK_REPLY, URL or PHONE_NUMBER.`];
    }
  });
  if (urls > 2) errors.buttons = ["A template can have at most 2 web-address buttons."];
  if (phones > 1) errors.buttons = ["A template can have at most 1 phone-number button."];
  return out;
}

/** Meta's components for a submitted template (HEADER, BODY with samples, FOOTER, BUTTONS). */
function buildComponents(
  body: string,
  examples: string[],
  header: HeaderInput | undefined,
  footer: string | undefined,
  buttons: Record<string, unknown>[],
): TemplateComponent[] {
  const components: TemplateComponent[] = [];
  if (header?.format === "TEXT")
    components.push({ type: "HEADER", format: "TEXT", text: header.text });
  else if (header) {
    components.push({
      type: "HEADER",
      format: header.format,
      example: { header_handle: [header.url] },
    });
  }
  components.push({
    type: "BODY",
    text: body,
    ...(examples.length > 0 ? { example: { body_text: [examples] } } : {}),
  });
  if (footer) components.push({ type: "FOOTER", text: footer });
  if (buttons.length > 0) components.push({ type: "BUTTONS", buttons });
  return components;
}

/**
 * Validates a new template, submits it to Meta for review and stores it (pending until a sync
 * sees Meta's decision). Invalid input is a ValidationError naming every problem; Meta refusing
 * the template (e.g. the name and language already exist there) is a ValidationError in Meta's
 * words; Meta unreachable or the token revoked is a WhatsAppTemplateError.
 */
export async function submitWhatsAppTemplate(
  ctx: WorkspaceContext,
  input: WhatsAppTemplateInput,
): Promise<WhatsAppTemplate> {
  const { api, adapter, integrationId } = templateApi(ctx);
  const errors: FieldErrors = {};
  const name = checkName(input.name, errors);
  const language = typeof input.language === "string" ? input.language.trim() : "";
  if (!LANGUAGE_PATTERN.test(language)) {
    errors.language = ["Choose a language code WhatsApp supports, e.g. en, en_US or hi."];
  }
  const category = typeof input.category === "string" ? input.category.trim().toUpperCase() : "";
  if (category === "AUTHENTICATION") {
    errors.category = [
      "Authentication (one-time code) templates have a fixed format; create them in WhatsApp Manager.",
    ];
  } else if (!(TEMPLATE_CATEGORIES as readonly string[]).includes(category)) {
    errors.category = ["Choose a category: MARKETING or UTILITY."];
  }
  const body = checkBody(input.bodyText, errors);
  const header = checkHeader(input, errors, integrationId === null);
  const footer = checkShortText(input.footerText, "footerText", "footer", MAX_FOOTER_TEXT, errors);
  const buttons = checkButtons(input.buttons, errors);
  const examples = errors.bodyText ? [] : checkExamples(input.examples, body.count, errors);
  const variableMap = errors.bodyText
    ? {}
    : checkVariableMap(ctx, input.variableMap, body.count, errors);

  const existing =
    errors.name || errors.language
      ? undefined
      : ctx.db
          .select()
          .from(templates)
          .where(
            and(
              eq(templates.channel, "whatsapp"),
              eq(templates.name, name),
              eq(templates.language, language),
            ),
          )
          .get();
  if (existing && existing.status !== "disabled") {
    errors.name = [`There is already a WhatsApp template “${name}” in ${language}.`];
  }
  throwIfErrors(errors);

  const components = buildComponents(body.text, examples, header, footer, buttons);
  let created: { id: string; status: string; category?: string };
  try {
    created = await api.create({ name, language, category, components });
  } catch (error) {
    if (error instanceof ProviderError && error.status === 400) {
      const reason = adapter.classify(error).reason;
      throw new ValidationError(`WhatsApp did not accept the template: ${reason}`, {
        form: [reason],
      });
    }
    throw failure("submit the template to WhatsApp", error, adapter);
  }

  const mapped = mapMetaStatus(created.status);
  const now = ctx.now();
  const values = {
    category: (created.category ?? category).toUpperCase(),
    status: mapped.status,
    statusReason: mapped.reason,
    externalId: created.id,
    content: contentJson(components, variableMap),
    variables: JSON.stringify(variablesOf(variableMap)),
    updatedAt: now,
    syncedAt: now,
  };
  const row = existing
    ? ctx.db.update(templates).set(values).where(eq(templates.id, existing.id)).returning().get()
    : ctx.db
        .insert(templates)
        .values({ channel: "whatsapp", name, language, createdAt: now, ...values })
        .returning()
        .get();
  recordAudit(ctx, {
    action: "template.submitted",
    workspaceId: ctx.workspaceId,
    target: { type: "template", id: row.id },
    details: { name, language, category: row.category, externalId: created.id },
  });
  // The sandbox's review gives its verdict on the workspace's next due visit after this.
  if (isSandboxTemplate(row)) markDue(ctx.workspaceId, now.getTime() + SANDBOX_REVIEW_MS);
  return toTemplate(row);
}

// --- the sandbox's review ---------------------------------------------------------------------

/**
 * Gives every sandbox template whose simulated review has run its course (SANDBOX_REVIEW_MS
 * after submission) Meta's verdict: approved, or rejected with the rule it breaks. Returns how
 * many were decided and when the next one is due (ms), if any.
 */
export function reviewSandboxTemplates(ctx: WorkspaceContext): {
  reviewed: number;
  next: number | null;
} {
  const now = ctx.now();
  const due = now.getTime() - SANDBOX_REVIEW_MS;
  const pending = ctx.db
    .select()
    .from(templates)
    .where(and(eq(templates.channel, "whatsapp"), eq(templates.status, "pending")))
    .all()
    .filter(isSandboxTemplate);
  let reviewed = 0;
  let next: number | null = null;
  for (const row of pending) {
    const submitted = row.updatedAt.getTime();
    if (submitted > due) {
      next = Math.min(next ?? Infinity, submitted + SANDBOX_REVIEW_MS);
      continue;
    }
    const verdict = reviewWhatsAppTemplate({
      name: row.name,
      components: parseContent(row.content).components,
    });
    ctx.db
      .update(templates)
      .set({
        status: verdict.approved ? "approved" : "rejected",
        statusReason: verdict.approved ? null : verdict.reason,
        updatedAt: now,
        syncedAt: now,
      })
      .where(and(eq(templates.id, row.id), eq(templates.status, "pending")))
      .run();
    recordAudit(ctx, {
      action: "template.reviewed",
      workspaceId: ctx.workspaceId,
      target: { type: "template", id: row.id },
      details: {
        name: row.name,
        sandbox: true,
        status: verdict.approved ? "approved" : "rejected",
        ...(verdict.approved ? {} : { reason: verdict.reason }),
      },
    });
    reviewed += 1;
  }
  return { reviewed, next };
}

/** The sandbox's reviews run on the dispatcher's visits to the workspace (the host wires it in). */
export const sandboxReviewHook: DueHook = (workspaceId, db, now) =>
  reviewSandboxTemplates(
    workspaceContextFor(
      systemContext("whatsapp-sandbox", () => new Date(now)),
      workspaceId,
      db,
    ),
  ).next;

// --- every workspace ----------------------------------------------------------------------------

export interface SyncAllResult {
  workspaces: number;
  failed: number;
  added: number;
  updated: number;
  unchanged: number;
  removed: number;
}

/**
 * The scheduled sync: every active workspace with a WhatsApp integration, one at a time. A
 * workspace that fails (token revoked, Meta down) is logged and counted; the others go on.
 */
export async function syncAllWhatsAppTemplates(
  now: () => Date = () => new Date(),
  log: Logger = defaultLogger,
): Promise<SyncAllResult> {
  const ids = getControlDb()
    .select({ workspaceId: integrations.workspaceId })
    .from(integrations)
    .innerJoin(workspaces, eq(workspaces.id, integrations.workspaceId))
    .where(and(eq(integrations.channel, "whatsapp"), eq(workspaces.status, "active")))
    .orderBy(asc(integrations.workspaceId))
    .all()
    .map((r) => r.workspaceId);
  const total: SyncAllResult = {
    workspaces: 0,
    failed: 0,
    added: 0,
    updated: 0,
    unchanged: 0,
    removed: 0,
  };
  for (const workspaceId of ids) {
    try {
      const result = await withTenantDb(workspaceId, (db) =>
        syncWhatsAppTemplates(
          workspaceContextFor(systemContext("whatsapp-template-sync", now), workspaceId, db),
        ),
      );
      total.workspaces += 1;
      total.added += result.added;
      total.updated += result.updated;
      total.unchanged += result.unchanged;
      total.removed += result.removed;
    } catch (error) {
      total.failed += 1;
      log.warn(
        { err: error, workspaceId },
        `WhatsApp template sync failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  return total;
}
