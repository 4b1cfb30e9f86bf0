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

export interface WorkspaceContext extends SystemContext {
  workspaceId: string;
  db: TenantDb;
}

export function systemContext(id: string, now: () => Date = () => new Date()): SystemContext {
  return { actor: { type: "system", id }, now };
}

export function cliContext(now: () => Date = () => new Date()): SystemContext {
  return { actor: { type: "cli" }, now };
}
