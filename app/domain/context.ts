import type { Currency } from "~/db/schema/control";
import type { TenantDb } from "~/db/tenants.server";

/** Who did something; recorded in the audit log. */
export type Actor =
  | { type: "user" | "admin" | "api_key"; id: string }
  | { type: "system"; id: string }
  | { type: "cli"; id?: string };

/** Where a request came from, when there was one. */
export interface RequestInfo {
  ip?: string;
  userAgent?: string;
}

/**
 * What every domain function receives instead of a Request. `now` comes from the context so
 * that expiry and retention tests move a clock instead of waiting.
 */
export interface SystemContext {
  actor: Actor;
  now(): Date;
  request?: RequestInfo;
}

/**
 * The facts about a workspace that domain functions read on almost every call (dates in its time
 * zone, phone numbers in its country, prices in its currency), loaded once with the context.
 */
export interface WorkspaceProfile {
  id: string;
  slug: string;
  timeZone: string;
  /** ISO 3166 alpha-2: how phone numbers written without a country code are read. */
  country: string;
  currency: Currency;
}

export interface WorkspaceContext extends SystemContext {
  workspaceId: string;
  workspace: WorkspaceProfile;
  db: TenantDb;
  /**
   * Set by code that handles a burst of work under one context (a batch of webhook events):
   * settings read once for the whole burst instead of once per item. Absent for requests, which
   * always read fresh. See `readOnce`.
   */
  readCache?: Map<string, unknown>;
}

/**
 * What a function that only reads or writes the tenant's file needs: pass the WorkspaceContext,
 * or `{ db }` where only a connection is at hand (a worker thread, a bench).
 */
export type TenantContext = Pick<WorkspaceContext, "db" | "readCache">;

/** `read()`, or its value from earlier in the same burst when the context caches reads. */
export function readOnce<T>(ctx: TenantContext, key: string, read: () => T): T {
  const cache = ctx.readCache;
  if (!cache) return read();
  if (cache.has(key)) return cache.get(key) as T;
  const value = read();
  cache.set(key, value);
  return value;
}

export function systemContext(id: string, now: () => Date = () => new Date()): SystemContext {
  return { actor: { type: "system", id }, now };
}

export function cliContext(now: () => Date = () => new Date()): SystemContext {
  return { actor: { type: "cli" }, now };
}
