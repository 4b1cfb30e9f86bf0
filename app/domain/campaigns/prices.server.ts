import { and, eq } from "drizzle-orm";
import type { Currency } from "~/db/schema/control";
import { prices } from "~/db/schema/tenant";
import { CHANNEL_LABELS, isChannel, type Channel } from "~/lib/channels";
import { NotFoundError, ValidationError, type FieldErrors } from "~/lib/errors";
import { parseMoney } from "~/lib/money";
import { recordAudit } from "../audit/audit.server";
import type { WorkspaceContext } from "../context";
import { COUNTRY_CODES, countryName } from "../workspaces/options";
import { priceTable } from "./campaigns.server";
import {
  ANY_COUNTRY,
  PRICE_KINDS,
  PRICE_UNITS,
  parsePriceKey,
  priceKey,
  UNIT_LABELS,
  type PriceKeyParts,
} from "./price-units";
import { DEFAULT_PRICES, type PriceRow } from "./review.server";

/**
 * The workspace's price table (Settings → Sending & usage), which the campaign review prices a
 * send with. Until the workspace changes a price it uses the defaults for its currency; the
 * first change copies the defaults in, because the review reads either the workspace's own rows
 * or the defaults, never a mix.
 */

export interface PriceTableRow extends PriceRow {
  /** The default for this channel, unit and country; null for a country the workspace added. */
  defaultMinor: number | null;
}

export interface PriceTableView {
  currency: Currency;
  /** False while the workspace uses the defaults. */
  custom: boolean;
  rows: PriceTableRow[];
}

const KIND_ORDER = new Map(PRICE_KINDS.map((k, i) => [`${k.channel}:${k.unit}`, i]));

function defaultFor(currency: Currency, row: PriceKeyParts): number | null {
  return (
    DEFAULT_PRICES[currency].find(
      (d) => d.channel === row.channel && d.unit === row.unit && d.country === row.country,
    )?.priceMinor ?? null
  );
}

/** By channel and unit, then the countries alphabetically, "other countries" last. */
function byTableOrder(a: PriceKeyParts, b: PriceKeyParts): number {
  const kind =
    (KIND_ORDER.get(`${a.channel}:${a.unit}`) ?? 99) -
    (KIND_ORDER.get(`${b.channel}:${b.unit}`) ?? 99);
  if (kind !== 0) return kind;
  if (a.country === b.country) return 0;
  if (a.country === ANY_COUNTRY) return 1;
  if (b.country === ANY_COUNTRY) return -1;
  return a.country.localeCompare(b.country);
}

function hasOwnPrices(ctx: WorkspaceContext): boolean {
  return ctx.db.select({ channel: prices.channel }).from(prices).limit(1).get() !== undefined;
}

export function workspacePrices(ctx: WorkspaceContext, currency: Currency): PriceTableView {
  const rows = priceTable(ctx)
    .map((row) => ({
      channel: row.channel,
      unit: row.unit,
      country: row.country,
      priceMinor: row.priceMinor,
      defaultMinor: defaultFor(currency, row),
    }))
    .sort(byTableOrder);
  return { currency, custom: hasOwnPrices(ctx), rows };
}

/** "WhatsApp per marketing message in India (IN)", for messages and the audit log. */
function describePrice(row: PriceKeyParts): string {
  const where =
    row.country === ANY_COUNTRY
      ? "other countries"
      : `${countryName(row.country)} (${row.country})`;
  return `${CHANNEL_LABELS[row.channel]} ${UNIT_LABELS[row.unit] ?? row.unit} in ${where}`;
}

/** The first change copies the defaults in, so every other price stays what it was. */
function ownRowsOrDefaults(ctx: WorkspaceContext, currency: Currency, now: Date): void {
  if (hasOwnPrices(ctx)) return;
  for (const row of DEFAULT_PRICES[currency]) {
    ctx.db
      .insert(prices)
      .values({ ...row, updatedAt: now })
      .run();
  }
}

function writePrice(ctx: WorkspaceContext, row: PriceRow, now: Date): void {
  ctx.db
    .insert(prices)
    .values({ ...row, updatedAt: now })
    .onConflictDoUpdate({
      target: [prices.channel, prices.unit, prices.country],
      set: { priceMinor: row.priceMinor, updatedAt: now },
    })
    .run();
}

export interface PriceEdit {
  /** The row's form name, "sms:segment:IN" (see priceKey). */
  key: string;
  /** Decimal money as typed, "0.20". */
  price: string;
}

/**
 * Saves the price table as edited: every amount is checked first and nothing is written unless
 * all are valid (errors come back per row key). Only rows already in the table can be edited;
 * new countries come through addPrice. Returns how many prices changed.
 */
export function savePrices(
  ctx: WorkspaceContext,
  currency: Currency,
  edits: readonly PriceEdit[],
): { changed: number } {
  const current = new Map(workspacePrices(ctx, currency).rows.map((r) => [priceKey(r), r]));
  const fieldErrors: FieldErrors = {};
  const changes: { row: PriceRow; from: number }[] = [];
  for (const edit of edits) {
    const parts = parsePriceKey(edit.key);
    const existing = parts ? current.get(priceKey(parts)) : undefined;
    if (!parts || !existing) {
      fieldErrors[edit.key] = ["This price is not in the table (any more). Reload the page."];
      continue;
    }
    const parsed = parseMoney(edit.price);
    if (!parsed.ok) {
      fieldErrors[edit.key] = [parsed.message];
      continue;
    }
    if (parsed.minor !== existing.priceMinor) {
      changes.push({ row: { ...parts, priceMinor: parsed.minor }, from: existing.priceMinor });
    }
  }
  if (Object.keys(fieldErrors).length > 0) {
    const count = Object.keys(fieldErrors).length;
    throw new ValidationError(
      count === 1
        ? "One price needs correcting; nothing was saved."
        : `${count} prices need correcting; nothing was saved.`,
      fieldErrors,
    );
  }
  if (changes.length === 0) return { changed: 0 };
  const now = ctx.now();
  ctx.db.transaction(() => {
    ownRowsOrDefaults(ctx, currency, now);
    for (const { row } of changes) writePrice(ctx, row, now);
  });
  recordAudit(ctx, {
    action: "workspace.prices_updated",
    workspaceId: ctx.workspaceId,
    target: { type: "workspace", id: ctx.workspaceId },
    details: {
      currency,
      changes: changes.map(({ row, from }) => ({
        channel: row.channel,
        unit: row.unit,
        country: row.country,
        fromMinor: from,
        toMinor: row.priceMinor,
      })),
    },
  });
  return { changed: changes.length };
}

export interface NewPrice {
  channel: string;
  unit: string;
  country: string;
  price: string;
}

/** A price for one more country (e.g. SMS to the UAE), next to the "other countries" row. */
export function addPrice(ctx: WorkspaceContext, currency: Currency, input: NewPrice): PriceRow {
  const fieldErrors: FieldErrors = {};
  const channel = input.channel.trim().toLowerCase();
  const unit = input.unit.trim();
  const country = input.country.trim().toUpperCase();
  const knownChannel = isChannel(channel);
  if (!knownChannel) {
    fieldErrors.channel = ["Choose WhatsApp, SMS, email or Telegram."];
  } else if (!PRICE_UNITS[channel as Channel].includes(unit)) {
    fieldErrors.unit =
      channel === "whatsapp"
        ? ["Choose the WhatsApp category: marketing, utility or authentication."]
        : [
            `${CHANNEL_LABELS[channel as Channel]} is priced ${UNIT_LABELS[PRICE_UNITS[channel as Channel][0]!]}.`,
          ];
  }
  if (!COUNTRY_CODES.includes(country)) {
    fieldErrors.country = ["Choose a country from the list (a two-letter ISO code)."];
  }
  const parsed = parseMoney(input.price);
  if (!parsed.ok) fieldErrors.price = [parsed.message];
  if (Object.keys(fieldErrors).length > 0 || !parsed.ok) {
    throw new ValidationError("Check the new price; nothing was saved.", fieldErrors);
  }
  const row: PriceRow = { channel: channel as Channel, unit, country, priceMinor: parsed.minor };
  const exists = workspacePrices(ctx, currency).rows.some((r) => priceKey(r) === priceKey(row));
  if (exists) {
    const message = `There is already a price for ${describePrice(row)}: change it in the table.`;
    throw new ValidationError(message, { country: [message] });
  }
  const now = ctx.now();
  ctx.db.transaction(() => {
    ownRowsOrDefaults(ctx, currency, now);
    writePrice(ctx, row, now);
  });
  recordAudit(ctx, {
    action: "workspace.price_added",
    workspaceId: ctx.workspaceId,
    target: { type: "workspace", id: ctx.workspaceId },
    details: { currency, channel: row.channel, unit, country, priceMinor: row.priceMinor },
  });
  return row;
}

/**
 * One row back to its default; a country the workspace added (no default) is removed, so its
 * recipients are priced by the "other countries" row again.
 */
export function resetPrice(
  ctx: WorkspaceContext,
  currency: Currency,
  key: string,
): { removed: boolean; description: string } {
  const parts = parsePriceKey(key);
  const row = parts
    ? workspacePrices(ctx, currency).rows.find((r) => priceKey(r) === priceKey(parts))
    : undefined;
  if (!parts || !row) throw new NotFoundError("Price");
  const description = describePrice(parts);
  if (row.defaultMinor === row.priceMinor) return { removed: false, description };
  const where = and(
    eq(prices.channel, parts.channel),
    eq(prices.unit, parts.unit),
    eq(prices.country, parts.country),
  );
  if (row.defaultMinor === null) {
    ctx.db.delete(prices).where(where).run();
  } else {
    ctx.db
      .update(prices)
      .set({ priceMinor: row.defaultMinor, updatedAt: ctx.now() })
      .where(where)
      .run();
  }
  recordAudit(ctx, {
    action: "workspace.price_reset",
    workspaceId: ctx.workspaceId,
    target: { type: "workspace", id: ctx.workspaceId },
    details: {
      currency,
      channel: parts.channel,
      unit: parts.unit,
      country: parts.country,
      fromMinor: row.priceMinor,
      toMinor: row.defaultMinor,
    },
  });
  return { removed: row.defaultMinor === null, description };
}

/** The whole table back to the defaults for the workspace's currency (added countries go). */
export function resetAllPrices(ctx: WorkspaceContext, currency: Currency): { removed: number } {
  const removed = ctx.db.delete(prices).run().changes;
  if (removed > 0) {
    recordAudit(ctx, {
      action: "workspace.prices_reset",
      workspaceId: ctx.workspaceId,
      target: { type: "workspace", id: ctx.workspaceId },
      details: { currency, rows: removed },
    });
  }
  return { removed };
}
