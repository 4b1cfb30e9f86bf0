import ipaddr from "ipaddr.js";
import {
  isFileMailbox,
  isMailboxId,
  listFileMailbox,
  readFileMailboxMessage,
  type MailboxMessage,
  type MailboxSummary,
} from "~/emails/transport.server";
import { getEnv } from "~/lib/env.server";
import { NotFoundError, ValidationError } from "~/lib/errors";

/**
 * The dev mailbox: the .eml files written when no SES credentials are configured, readable in
 * the browser. It holds live sign-in links (verification, reset), so it answers only a browser
 * on the same machine, and otherwise looks like any unknown page (404).
 */

export const MAILBOX_PAGE_SIZE = 50;

export interface MailboxRequest {
  /** The client address as the host resolved it (through TRUST_PROXY). */
  clientIp: string;
  /** The Host header. */
  host: string | null;
  /** Whether the request carried Forwarded / X-Forwarded-For / X-Real-IP. */
  forwarded: boolean;
}

function isLoopback(ip: string): boolean {
  try {
    return ipaddr.process(ip).range() === "loopback";
  } catch {
    return false;
  }
}

/** Names this machine answers to: localhost, loopback literals, and BASE_URL's host. */
function isLocalHostHeader(host: string | null): boolean {
  if (!host) return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return false;
  }
  if (hostname === "localhost" || hostname.endsWith(".localhost")) return true;
  if (isLoopback(hostname.replace(/^\[|\]$/g, ""))) return true;
  return hostname === new URL(getEnv().BASE_URL).hostname.toLowerCase();
}

/**
 * Whether this request may see the dev mailbox: mail is file-based, the client is on a loopback
 * address, the request did not come through a proxy (behind an untrusted local proxy every
 * client would look like 127.0.0.1), and the Host names this machine (DNS rebinding).
 */
export function devMailboxVisible(request: MailboxRequest): boolean {
  return (
    isFileMailbox() &&
    !request.forwarded &&
    isLoopback(request.clientIp) &&
    isLocalHostHeader(request.host)
  );
}

/** Throws NotFoundError (404) unless the dev mailbox is visible to this request. */
export function requireDevMailbox(request: MailboxRequest): void {
  if (!devMailboxVisible(request)) throw new NotFoundError("Page");
}

export interface MailboxPage {
  items: MailboxSummary[];
  total: number;
  page: number;
  pageCount: number;
  pageSize: number;
}

/** `page` is the raw ?page= value: a whole number from 1, default 1. */
export async function listDevMailbox(
  request: MailboxRequest,
  page: string | null,
): Promise<MailboxPage> {
  requireDevMailbox(request);
  let pageNumber = 1;
  if (page !== null && page !== "") {
    if (!/^\d{1,6}$/.test(page) || Number(page) < 1) {
      throw new ValidationError("The page must be a whole number from 1.", {
        page: ["Must be a whole number from 1."],
      });
    }
    pageNumber = Number(page);
  }
  const { total, items } = await listFileMailbox({
    limit: MAILBOX_PAGE_SIZE,
    offset: (pageNumber - 1) * MAILBOX_PAGE_SIZE,
  });
  return {
    items,
    total,
    page: pageNumber,
    pageCount: Math.max(1, Math.ceil(total / MAILBOX_PAGE_SIZE)),
    pageSize: MAILBOX_PAGE_SIZE,
  };
}

/** One message; a malformed id (e.g. "../control.db") is just an unknown message: 404. */
export async function readDevMailboxMessage(
  request: MailboxRequest,
  id: string,
): Promise<MailboxMessage> {
  requireDevMailbox(request);
  const message = isMailboxId(id) ? await readFileMailboxMessage(id) : null;
  if (!message) throw new NotFoundError("Message");
  return message;
}

/** Reads what the guard needs from request headers (any `get(name)`), without the Request. */
export function mailboxRequestFrom(
  headers: { get(name: string): string | null },
  clientIp: string,
): MailboxRequest {
  return {
    clientIp,
    host: headers.get("host"),
    forwarded:
      headers.get("forwarded") !== null ||
      headers.get("x-forwarded-for") !== null ||
      headers.get("x-real-ip") !== null,
  };
}
