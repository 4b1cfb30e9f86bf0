import type { ServerBuild } from "@remix-run/node";
import { data } from "@remix-run/node";
import { closeControlDb, getControlDb } from "~/db/control.server";
import { closeAllTenantDbs, createTenantScope } from "~/db/tenants.server";
import { recoverImports, stopImportsForShutdown } from "~/domain/contacts/import/supervisor.server";
import { startDispatcher, stopDispatcher } from "~/domain/delivery/dispatcher.server";
import type { RawWebhook } from "~/channels/types";
import { INBOUND_EMAIL_SEGMENT, receiveInboundEmail } from "~/domain/delivery/inbound-email.server";
import { receiveWebhook, type WebhookAnswer } from "~/domain/delivery/webhooks.server";
import { closeInboxStreams } from "~/domain/inbox/live-stream.server";
import { checkHealth } from "~/domain/operations/health.server";
import { systemContext } from "~/domain/context";
import {
  ensureShippedPolicyVersion,
  publishShippedPolicyVersions,
  startPolicyNotices,
} from "~/domain/privacy/policy-versions.server";
import { deliveryWiring } from "~/jobs/delivery-wiring.server";
import { startPrivacyIndexUpkeep, stopPrivacyIndexUpkeep } from "~/jobs/privacy-reindex.server";
import { startScheduler, stopScheduler } from "~/jobs/scheduler.server";
import { getEnv } from "~/lib/env.server";
import { isAppError, RateLimitedError, ValidationError } from "~/lib/errors";
import { getSecrets } from "~/lib/local-secrets.server";
import { logger } from "~/lib/logger.server";

/**
 * What the host process (server.ts) needs from the application. server.ts reaches it through
 * the server build's entry module, so the host and the routes share one set of db handles.
 */
export const host = {
  /** Secrets and control db ready before the first request; returns locally stored secrets. */
  boot(): { localSecrets: string[] } {
    const { local } = getSecrets();
    getControlDb();
    // The shipped privacy policy is version 1 of policy_versions from the first start on.
    ensureShippedPolicyVersion();
    // Later versions in content/privacy-policy are published like any other (14 days' notice).
    if (publishShippedPolicyVersions(systemContext("policy")).length > 0) startPolicyNotices();
    return { localSecrets: local };
  },
  /** After listen: the scheduler (if enabled) and background work a restart interrupted. */
  startJobs(): void {
    if (getEnv().JOBS_ENABLED) {
      startScheduler();
      startDispatcher(deliveryWiring);
    }
    try {
      const report = recoverImports();
      if (report.resumed || report.failed || report.cancelled) {
        logger.info(report, "contact imports recovered after restart");
      }
    } catch (error) {
      logger.error({ err: error }, "could not recover contact imports");
    }
    // After the imports' recovery, so that resumed imports keep their index markers.
    void startPrivacyIndexUpkeep();
  },
  /**
   * Stops scheduling and waits for running jobs; imports stop where they are and resume later.
   * Open live streams end at once.
   */
  async stopJobs(): Promise<void> {
    // Open inbox pages hold a response open; ending them lets the server close (they reconnect).
    closeInboxStreams();
    await Promise.all([
      stopScheduler(),
      stopImportsForShutdown(),
      stopDispatcher(),
      stopPrivacyIndexUpkeep(),
    ]);
  },
  /** Last step of shutdown, once no request or job uses a handle. */
  closeDatabases(): void {
    closeAllTenantDbs();
    closeControlDb();
  },
  createTenantScope,
  checkHealth,
  /**
   * Provider webhooks: /webhooks/<whatsapp|ses|sms|telegram>/<integrationId>, raw body; and the
   * platform's inbound email endpoints, /webhooks/inbound-email/<ses|forward>.
   */
  receiveWebhook(segment: string, id: string, raw: RawWebhook): Promise<WebhookAnswer> {
    return segment === INBOUND_EMAIL_SEGMENT
      ? receiveInboundEmail(id, raw)
      : receiveWebhook(segment, id, raw);
  },
  /**
   * Domain functions throw typed errors (NotFoundError, ForbiddenError, ...). Wrapping every
   * loader and action here turns them into 4xx error responses for the nearest ErrorBoundary,
   * so no route can leak one as a 500.
   */
  withAppErrorResponses(build: ServerBuild): ServerBuild {
    const routes: ServerBuild["routes"] = {};
    for (const [id, route] of Object.entries(build.routes)) {
      const module = { ...route.module };
      if (module.loader) module.loader = mapErrors(module.loader);
      if (module.action) module.action = mapErrors(module.action);
      module.headers ??= passOnHeaders;
      routes[id] = { ...route, module };
    }
    return { ...build, routes };
  },
};

export type Host = typeof host;

/** Headers a route's own answer (or its error) sets for the client, beyond cookies. */
const PASSED_ON = ["Retry-After", "Cache-Control", "Content-Disposition"];

/**
 * Remix uses a route's `headers` export to build the page's headers; without one, only
 * cookies of loaders and actions reach the browser. This default passes on the few headers
 * our answers set on purpose (Retry-After on 429s above all) and keeps the parent's others.
 */
function passOnHeaders(args: {
  loaderHeaders: Headers;
  parentHeaders: Headers;
  actionHeaders: Headers;
  errorHeaders: Headers | undefined;
}): Headers {
  const headers = new Headers();
  args.parentHeaders.forEach((value, name) => {
    // Cookies are carried over by Remix itself; copying them here would send them twice.
    if (name !== "set-cookie") headers.set(name, value);
  });
  for (const source of [args.loaderHeaders, args.actionHeaders, args.errorHeaders]) {
    for (const name of PASSED_ON) {
      const value = source?.get(name);
      if (value) headers.set(name, value);
    }
  }
  return headers;
}

function mapErrors<A extends unknown[], R>(fn: (...args: A) => R) {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (error) {
      if (!isAppError(error)) throw error;
      const headers = new Headers();
      if (error instanceof RateLimitedError) {
        headers.set("Retry-After", String(error.retryAfterSeconds));
      }
      throw data(
        {
          message: error.message,
          code: error.code,
          fieldErrors: error instanceof ValidationError ? error.fieldErrors : undefined,
        },
        { status: error.status, headers },
      );
    }
  };
}
