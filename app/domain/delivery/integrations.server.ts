import type { Statement } from "better-sqlite3";
import { and, eq } from "drizzle-orm";
import { createAdapter, type AdapterSpec } from "~/channels/registry.server";
import { SMTP_PORTS } from "~/channels/smtp/adapter.server";
import type { ChannelAdapter } from "~/channels/types";
import { getControlDb } from "~/db/control.server";
import { integrations } from "~/db/schema/control";
import type { Channel } from "~/lib/channels";
import { decryptSecret, encryptSecret } from "~/lib/crypto/vault.server";
import { getEnv } from "~/lib/env.server";
import {
  NotFoundError,
  ValidationError,
  validationErrorFromIssues,
  type FieldErrors,
} from "~/lib/errors";
import { OutboundAddressError, resolveOutboundHost } from "~/lib/outbound-address.server";
import { newId, randomToken } from "~/lib/tokens";
import { recordAudit } from "../audit/audit.server";
import { systemContext, type SystemContext } from "../context";
import { aadFor, encryptedColumns } from "../security/encrypted-columns.server";
import {
  DEFAULT_RATE,
  maskSecret,
  PROVIDER_CHANNEL,
  PROVIDER_FIELDS,
  PROVIDER_SCHEMAS,
  PROVIDERS,
  TARGET_FIELDS,
  targetFieldLabels,
  type Provider,
} from "./integration-fields";

/**
 * A workspace's provider accounts (one per channel). The config (every form field) is stored
 * vault-encrypted; pages see it masked. Adapters are built once per integration version and
 * cached, so the dispatcher and webhooks do not decrypt per message.
 */

const CONFIG_COLUMN = encryptedColumns.find((c) => c.aadPrefix === "integrations.config_enc")!;

/** The URL path segment of each provider's webhook: /webhooks/<segment>/<integrationId>. */
export const WEBHOOK_SEGMENT: Record<Provider, string | null> = {
  whatsapp: "whatsapp",
  "email-ses": "ses",
  "email-smtp": null,
  sms: "sms",
  telegram: "telegram",
};

export function webhookUrlFor(provider: Provider, id: string): string | null {
  const segment = WEBHOOK_SEGMENT[provider];
  if (!segment) return null;
  return `${getEnv().BASE_URL.replace(/\/$/, "")}/webhooks/${segment}/${id}`;
}

type Row = typeof integrations.$inferSelect;

export interface IntegrationSummary {
  id: string;
  channel: Channel;
  provider: Provider;
  ratePerSecond: number;
  /** Field name → display value (secrets masked). */
  fields: Record<string, string>;
  details: Record<string, string>;
  webhookUrl: string | null;
  lastCheckedAt: Date | null;
  lastCheckOk: boolean | null;
  lastCheckDetail: string | null;
  /** The part of the setup the last check stopped at, when it failed and knew which. */
  lastCheckStep: string | null;
  /**
   * The last check ran on the credentials as they are now; false when they were saved since
   * (the check says nothing about the new ones) or were never checked.
   */
  lastCheckCurrent: boolean;
  updatedAt: Date;
}

function readConfig(row: Pick<Row, "id" | "configEnc" | "provider">): Record<string, unknown> {
  const config = JSON.parse(decryptSecret(row.configEnc, aadFor(CONFIG_COLUMN, row.id))) as Record<
    string,
    unknown
  >;
  // SMTP once offered tlsMode "none"; mail now only goes out encrypted, so such a stored
  // integration reads as STARTTLS required (the page shows it so, and a server without
  // STARTTLS fails with a TLS error the tenant can act on).
  if (row.provider === "email-smtp" && config.tlsMode === "none") config.tlsMode = "starttls";
  return config;
}

function isCheckCurrent(row: Pick<Row, "lastCheckedAt" | "updatedAt">): boolean {
  return row.lastCheckedAt !== null && row.lastCheckedAt.getTime() >= row.updatedAt.getTime();
}

function summarise(row: Row): IntegrationSummary {
  const config = readConfig(row);
  const provider = row.provider as Provider;
  const fields: Record<string, string> = {};
  for (const field of PROVIDER_FIELDS[provider]) {
    const value = config[field.name];
    if (value === undefined || value === null || value === "") continue;
    fields[field.name] = field.secret ? maskSecret(String(value)) : String(value);
  }
  return {
    id: row.id,
    channel: row.channel,
    provider,
    ratePerSecond: row.ratePerSecond,
    fields,
    details: JSON.parse(row.details) as Record<string, string>,
    webhookUrl: webhookUrlFor(provider, row.id),
    lastCheckedAt: row.lastCheckedAt,
    lastCheckOk: row.lastCheckOk,
    lastCheckDetail: row.lastCheckDetail,
    lastCheckStep: row.lastCheckStep,
    lastCheckCurrent: isCheckCurrent(row),
    updatedAt: row.updatedAt,
  };
}

export function listIntegrations(workspaceId: string): IntegrationSummary[] {
  return getControlDb()
    .select()
    .from(integrations)
    .where(eq(integrations.workspaceId, workspaceId))
    .all()
    .map(summarise);
}

/** How each integration stands, read without decrypting its credentials (a home page must load
 * even when one integration's secret can no longer be read). */
export interface IntegrationState {
  id: string;
  channel: Channel;
  provider: Provider;
  /** The last check passed on the credentials as saved. */
  connected: boolean;
  /** The last check on the credentials as saved failed. */
  checkFailed: boolean;
}

export function listIntegrationStates(workspaceId: string): IntegrationState[] {
  return getControlDb()
    .select()
    .from(integrations)
    .where(eq(integrations.workspaceId, workspaceId))
    .all()
    .map((row) => ({
      id: row.id,
      channel: row.channel,
      provider: row.provider as Provider,
      connected: row.lastCheckOk === true && isCheckCurrent(row),
      checkFailed: row.lastCheckOk === false && isCheckCurrent(row),
    }));
}

function findRow(workspaceId: string, id: string): Row {
  const row = getControlDb()
    .select()
    .from(integrations)
    .where(and(eq(integrations.id, id), eq(integrations.workspaceId, workspaceId)))
    .get();
  if (!row) throw new NotFoundError("Integration", id);
  return row;
}

/** A random WhatsApp webhook verify token to offer in a new connection form. */
export function suggestVerifyToken(): string {
  return randomToken(18);
}

export function isProvider(value: unknown): value is Provider {
  return typeof value === "string" && (PROVIDERS as readonly string[]).includes(value);
}

const targetValue = (value: unknown) =>
  String(value ?? "")
    .trim()
    .toLowerCase();

/**
 * Connects (or updates) the workspace's integration for the provider's channel. Secret fields
 * left blank keep their stored value, so a form that shows them masked can be saved as is;
 * but when a field that decides where they go changes (TARGET_FIELDS: host, port, region,
 * account), no stored secret is kept: each must be entered again, or the save is refused.
 * Replacing a channel's provider (e.g. SMTP for SES) is allowed: one integration per channel.
 *
 * Pages and the CLI save through saveIntegrationChecked, which also checks the addresses a
 * tenant typed; this one is for code that writes a known-good config (tests, benches).
 */
export function saveIntegration(
  ctx: SystemContext & { userId?: string },
  workspaceId: string,
  provider: Provider,
  input: Record<string, unknown>,
): { id: string; webhookUrl: string | null } {
  if (!isProvider(provider)) {
    throw new ValidationError(`Unknown provider; choose one of ${PROVIDERS.join(", ")}.`);
  }
  const channel = PROVIDER_CHANNEL[provider];
  const db = getControlDb();
  const existing = db
    .select()
    .from(integrations)
    .where(and(eq(integrations.workspaceId, workspaceId), eq(integrations.channel, channel)))
    .get();
  const previous = existing && existing.provider === provider ? readConfig(existing) : {};
  const isBlank = (value: unknown) =>
    value === undefined || value === null || String(value).trim() === "";
  const merged: Record<string, unknown> = {};
  for (const field of PROVIDER_FIELDS[provider]) {
    const value = input[field.name];
    merged[field.name] = isBlank(value) && field.secret ? previous[field.name] : value;
  }
  let parsed = PROVIDER_SCHEMAS[provider].safeParse(merged);
  if (parsed.success && existing && existing.provider === provider) {
    const data = parsed.data as Record<string, unknown>;
    const moved = TARGET_FIELDS[provider].some(
      (f) => targetValue(data[f]) !== targetValue(previous[f]),
    );
    if (moved) {
      // The stored secrets were entered for the old destination: drop every one not re-entered.
      const fieldErrors: FieldErrors = {};
      for (const field of PROVIDER_FIELDS[provider]) {
        if (!field.secret || !isBlank(input[field.name])) continue;
        merged[field.name] = undefined;
        const needed =
          !field.optional ||
          (field.requiredWith !== undefined && !isBlank(data[field.requiredWith]));
        if (needed && !isBlank(previous[field.name])) {
          fieldErrors[field.name] = [
            `Enter the ${field.label.toLowerCase()} again: the ${targetFieldLabels(provider)} changed, and a stored ${field.label.toLowerCase()} is never sent to a new destination.`,
          ];
        }
      }
      const first = Object.values(fieldErrors)[0]?.[0];
      if (first) throw new ValidationError(first, fieldErrors);
      parsed = PROVIDER_SCHEMAS[provider].safeParse(merged);
    }
  }
  if (!parsed.success) throw validationErrorFromIssues(parsed.error.issues);
  const config: Record<string, unknown> = { ...parsed.data };
  // Telegram signs its webhook calls with a secret we choose; kept across edits.
  if (provider === "telegram") config.webhookSecret = previous.webhookSecret ?? randomToken(24);
  const ratePerSecond = (parsed.data.ratePerSecond as number | undefined) ?? DEFAULT_RATE[provider];
  const now = ctx.now();
  const id = existing?.id ?? newId("int");
  const configEnc = encryptSecret(JSON.stringify(config), aadFor(CONFIG_COLUMN, id));
  db.transaction((tx) => {
    if (existing) {
      tx.update(integrations)
        .set({
          provider,
          configEnc,
          ratePerSecond,
          updatedAt: now,
          details: JSON.stringify({
            ...(existing.provider === provider ? (JSON.parse(existing.details) as object) : {}),
            ...publicDetails(provider, config),
          }),
          ...(existing.provider === provider
            ? {}
            : {
                lastCheckedAt: null,
                lastCheckOk: null,
                lastCheckDetail: null,
                lastCheckStep: null,
              }),
        })
        .where(eq(integrations.id, id))
        .run();
    } else {
      tx.insert(integrations)
        .values({
          id,
          workspaceId,
          channel,
          provider,
          configEnc,
          ratePerSecond,
          details: JSON.stringify(publicDetails(provider, config)),
          createdBy: ctx.userId ?? null,
          createdAt: now,
          updatedAt: now,
        })
        .run();
    }
  });
  adapterCache.delete(id);
  recordAudit(ctx, {
    action: existing ? "integration.updated" : "integration.connected",
    workspaceId,
    target: { type: "integration", id },
    details: { provider, channel, ratePerSecond },
  });
  return { id, webhookUrl: webhookUrlFor(provider, id) };
}

/**
 * saveIntegration, after checking the hosts the tenant typed with the outbound-address guard
 * (public addresses and the usual ports only, ADR 0015): a refused host is a field error and
 * nothing is stored. The same check runs again at every connection, on the address it pins.
 */
export async function saveIntegrationChecked(
  ctx: SystemContext & { userId?: string },
  workspaceId: string,
  provider: Provider,
  input: Record<string, unknown>,
): Promise<{ id: string; webhookUrl: string | null }> {
  if (provider === "email-smtp") {
    const host = PROVIDER_SCHEMAS["email-smtp"].shape.host.safeParse(input.host);
    const port = PROVIDER_SCHEMAS["email-smtp"].shape.port.safeParse(input.port);
    // Malformed values get saveIntegration's own field errors.
    if (host.success && port.success) {
      try {
        await resolveOutboundHost(host.data, { port: { port: port.data, allowed: SMTP_PORTS } });
      } catch (error) {
        if (!(error instanceof OutboundAddressError)) throw error;
        const field = error.refusal === "port" ? "port" : "host";
        const message = `${error.message.charAt(0).toUpperCase()}${error.message.slice(1)}.`;
        throw new ValidationError(message, { [field]: [message] });
      }
    }
  }
  return saveIntegration(ctx, workspaceId, provider, input);
}

/** Non-secret settings the engine and the campaign review read without decrypting. */
function publicDetails(
  provider: Provider,
  config: Record<string, unknown>,
): Record<string, string> {
  return provider === "whatsapp"
    ? { messagingTier: String(config.messagingTier ?? "TIER_1K") }
    : {};
}

export function removeIntegration(ctx: SystemContext, workspaceId: string, id: string): void {
  const row = findRow(workspaceId, id);
  getControlDb().delete(integrations).where(eq(integrations.id, row.id)).run();
  adapterCache.delete(row.id);
  recordAudit(ctx, {
    action: "integration.removed",
    workspaceId,
    target: { type: "integration", id },
    details: { provider: row.provider, channel: row.channel },
  });
}

/** A deleted workspace's purge: its provider accounts go (no audit per row; the purge is audited). */
export function removeWorkspaceIntegrations(workspaceId: string): number {
  const removed = getControlDb()
    .delete(integrations)
    .where(eq(integrations.workspaceId, workspaceId))
    .returning({ id: integrations.id })
    .all();
  for (const row of removed) adapterCache.delete(row.id);
  return removed.length;
}

export interface IntegrationCheck {
  ok: boolean;
  /** What the provider said: the account's details, or why it failed (with its code). */
  detail: string;
  /** On failure, the part of the setup that failed (e.g. "Access token"), when known. */
  step: string | null;
}

/**
 * "Test connection": a harmless authenticated call to the provider. Learns what it can
 * (SES's max send rate; the Telegram bot's name, and registers its webhook) and records the
 * outcome on the integration. Saving from the page runs it too.
 */
export async function checkIntegration(
  ctx: SystemContext,
  workspaceId: string,
  id: string,
): Promise<IntegrationCheck> {
  const row = findRow(workspaceId, id);
  const { adapter, provider } = loadIntegration(row);
  let result = await adapter.testConnection();
  const details = JSON.parse(row.details) as Record<string, string>;
  let ratePerSecond = row.ratePerSecond;
  if (result.ok) {
    if (provider === "email-ses" && result.ratePerSecond && !readConfig(row).ratePerSecond) {
      ratePerSecond = Math.max(1, Math.floor(result.ratePerSecond));
    }
    if (provider === "telegram") {
      const username = /@([A-Za-z0-9_]+)/.exec(result.detail)?.[1];
      if (username) details.botUsername = username;
      try {
        await adapter.registerWebhook?.(webhookUrlFor(provider, row.id)!);
        result = { ...result, detail: `${result.detail}; webhook registered` };
      } catch (error) {
        result = {
          ok: false,
          check: "Webhook registration",
          reason: `The bot answered, but its webhook could not be set: ${error instanceof Error ? error.message : String(error)}`,
        };
      }
    }
  }
  const detail = result.ok ? result.detail : result.reason;
  const step = result.ok ? null : (result.check ?? null);
  getControlDb()
    .update(integrations)
    .set({
      lastCheckedAt: ctx.now(),
      lastCheckOk: result.ok,
      lastCheckDetail: detail.slice(0, 500),
      lastCheckStep: step,
      details: JSON.stringify(details),
      ratePerSecond,
    })
    .where(eq(integrations.id, row.id))
    .run();
  adapterCache.delete(row.id);
  recordAudit(ctx, {
    action: "integration.checked",
    workspaceId,
    target: { type: "integration", id },
    details: { ok: result.ok },
  });
  return { ok: result.ok, detail, step };
}

// ---------------------------------------------------------------------------------------------
// Runtime: adapters for the dispatcher and the webhook route.

export interface LoadedIntegration {
  id: string;
  workspaceId: string;
  channel: Channel;
  provider: Provider;
  ratePerSecond: number;
  details: Record<string, string>;
  adapter: ChannelAdapter;
}

const adapterCache = new Map<string, { version: number; loaded: LoadedIntegration }>();

/** Changes whenever the config, rate or check result changes (in this or another process). */
function versionOf(row: Pick<Row, "updatedAt" | "lastCheckedAt">): number {
  return row.updatedAt.getTime() * 31 + (row.lastCheckedAt?.getTime() ?? 0);
}

function loadIntegration(row: Row): LoadedIntegration {
  const version = versionOf(row);
  const cached = adapterCache.get(row.id);
  if (cached && cached.version === version) return cached.loaded;
  const provider = row.provider as Provider;
  // The config was validated against PROVIDER_SCHEMAS[provider] when it was saved.
  const spec = { provider, config: readConfig(row) } as unknown as AdapterSpec;
  const loaded: LoadedIntegration = {
    id: row.id,
    workspaceId: row.workspaceId,
    channel: row.channel,
    provider,
    ratePerSecond: row.ratePerSecond,
    details: JSON.parse(row.details) as Record<string, string>,
    adapter: createAdapter(spec, {
      webhookUrl: webhookUrlFor(provider, row.id) ?? undefined,
      pinSnsTopic: (topicArn) => pinSnsTopic(row.id, topicArn),
    }),
  };
  adapterCache.set(row.id, { version, loaded });
  return loaded;
}

/**
 * Records `topicArn` as the SES integration's SNS topic unless one is already recorded, and
 * returns the recorded one. Kept in the config, so the form shows it and the tenant can change
 * or clear it (cleared: the next subscription confirmation's topic is kept).
 */
function pinSnsTopic(id: string, topicArn: string): string {
  const db = getControlDb();
  const pinned = db.transaction(
    (tx) => {
      const row = tx.select().from(integrations).where(eq(integrations.id, id)).get();
      if (!row || row.provider !== "email-ses") return null;
      const config = readConfig(row);
      if (typeof config.snsTopicArn === "string" && config.snsTopicArn !== "") {
        return { topic: config.snsTopicArn, workspaceId: row.workspaceId, fresh: false };
      }
      config.snsTopicArn = topicArn;
      tx.update(integrations)
        .set({ configEnc: encryptSecret(JSON.stringify(config), aadFor(CONFIG_COLUMN, id)) })
        .where(eq(integrations.id, id))
        .run();
      return { topic: topicArn, workspaceId: row.workspaceId, fresh: true };
    },
    { behavior: "immediate" },
  );
  // Removed meanwhile: accept nothing.
  if (!pinned) return "";
  if (pinned.fresh) {
    recordAudit(systemContext("sns-webhook"), {
      action: "integration.sns_topic_pinned",
      workspaceId: pinned.workspaceId,
      target: { type: "integration", id },
      details: { topicArn },
    });
  }
  return pinned.topic;
}

// A webhook request's lookup: one prepared point query, then the cached adapter. The version
// read every time means an edit or removal (also from the CLI, another process) applies at once.
const versionStatements = new WeakMap<object, Statement>();

/**
 * The integration behind a webhook URL, or null (unknown id, or the wrong provider path), or
 * "workspace_deleted": its workspace was deleted, so nothing it sends may be stored.
 */
export function integrationForWebhook(
  segment: string,
  id: string,
): LoadedIntegration | "workspace_deleted" | null {
  if (!/^int_[a-z0-9]{16}$/.test(id)) return null;
  const client = getControlDb().$client;
  let versionStatement = versionStatements.get(client);
  if (!versionStatement) {
    versionStatement = client.prepare(
      `SELECT i.updated_at AS updatedAt, i.last_checked_at AS lastCheckedAt, w.status AS status
         FROM integrations i JOIN workspaces w ON w.id = i.workspace_id WHERE i.id = ?`,
    );
    versionStatements.set(client, versionStatement);
  }
  const current = versionStatement.get(id) as
    { updatedAt: number; lastCheckedAt: number | null; status: string } | undefined;
  if (!current) return null;
  if (current.status === "deleted") return "workspace_deleted";
  const cached = adapterCache.get(id);
  const version = versionOf({
    updatedAt: new Date(current.updatedAt),
    lastCheckedAt: current.lastCheckedAt === null ? null : new Date(current.lastCheckedAt),
  });
  const loaded =
    cached && cached.version === version
      ? cached.loaded
      : (() => {
          const row = getControlDb()
            .select()
            .from(integrations)
            .where(eq(integrations.id, id))
            .get();
          return row ? loadIntegration(row) : null;
        })();
  if (!loaded || WEBHOOK_SEGMENT[loaded.provider] !== segment) return null;
  return loaded;
}

/** The workspace's integration for a channel, or null: the channel's sandbox. */
export function integrationForChannel(
  workspaceId: string,
  channel: Channel,
): LoadedIntegration | null {
  const row = getControlDb()
    .select()
    .from(integrations)
    .where(and(eq(integrations.workspaceId, workspaceId), eq(integrations.channel, channel)))
    .get();
  return row ? loadIntegration(row) : null;
}

/** By id, only within the workspace (a message names its integration). */
export function integrationById(workspaceId: string, id: string): LoadedIntegration | null {
  const row = getControlDb()
    .select()
    .from(integrations)
    .where(and(eq(integrations.id, id), eq(integrations.workspaceId, workspaceId)))
    .get();
  return row ? loadIntegration(row) : null;
}
