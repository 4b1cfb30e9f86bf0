import type { MessageContent } from "~/channels/types";
import { isChannel } from "~/lib/channels";
import { getEnv } from "~/lib/env.server";
import { escapeHtml } from "~/lib/html";
import { readSignedToken, signToken } from "~/lib/signed-token.server";
import { messageAddress } from "./reply-address.server";

/**
 * What every marketing email gets on top of the tenant's content: an unsubscribe
 * link in the body, `List-Unsubscribe` (https and mailto) with `List-Unsubscribe-Post` for
 * RFC 8058 one-click, and, when the workspace allows it, an open pixel and click-tracking
 * redirects. All links carry signed tokens: none can be forged or turned into an open redirect.
 */

const UNSUBSCRIBE = "engage:contact-unsubscribe:v1:";
const OPEN = "engage:open:v1:";
const CLICK = "engage:click:v1:";

export interface UnsubscribeTarget {
  workspaceId: string;
  contactId: number;
  channel: "email" | "whatsapp" | "sms" | "telegram";
  messageId: string;
}

export function unsubscribeToken(target: UnsubscribeTarget): string {
  return signToken(
    UNSUBSCRIBE,
    [target.workspaceId, target.contactId, target.channel, target.messageId].join("|"),
  );
}

export function readUnsubscribeToken(token: string): UnsubscribeTarget | null {
  const payload = readSignedToken(UNSUBSCRIBE, token);
  const parts = payload?.split("|");
  if (!parts || parts.length !== 4) return null;
  const [workspaceId, contactId, channel, messageId] = parts as [string, string, string, string];
  if (!/^\d+$/.test(contactId)) return null;
  if (!isChannel(channel)) return null;
  return {
    workspaceId,
    contactId: Number(contactId),
    channel,
    messageId,
  };
}

function baseUrl(): string {
  return getEnv().BASE_URL.replace(/\/$/, "");
}

export function unsubscribeUrl(target: UnsubscribeTarget): string {
  return `${baseUrl()}/u/${unsubscribeToken(target)}`;
}

/**
 * The mailbox that receives mailto unsubscribes: with inbound email configured, this message's
 * own unsubscribe+<token>@ address (mail there suppresses the sender); else UNSUBSCRIBE_MAILTO,
 * or unsubscribe@<host>.
 */
function unsubscribeMailbox(target: UnsubscribeTarget): string {
  return (
    messageAddress("unsubscribe", target) ??
    getEnv().UNSUBSCRIBE_MAILTO ??
    `unsubscribe@${new URL(baseUrl()).hostname}`
  );
}

/**
 * Every email we send (service and marketing) with its own reply+<token>@ Reply-To when inbound
 * email is configured, so the answer comes back to the inbox of its workspace. A Reply-To the
 * content already names is kept.
 */
export function withReplyAddress<T extends MessageContent>(
  content: T,
  workspaceId: string,
  messageId: string,
): T {
  if (content.channel !== "email" || content.replyTo) return content;
  const replyTo = messageAddress("reply", { workspaceId, messageId });
  return replyTo ? { ...content, replyTo } : content;
}

/** RFC 2369 + RFC 8058 headers for one marketing email. */
export function unsubscribeHeaders(target: UnsubscribeTarget): Record<string, string> {
  const token = unsubscribeToken(target);
  return {
    "List-Unsubscribe": `<${baseUrl()}/u/${token}>, <mailto:${unsubscribeMailbox(target)}?subject=unsubscribe%20${token}>`,
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
  };
}

export function openPixelUrl(workspaceId: string, messageId: string): string {
  return `${baseUrl()}/t/o/${signToken(OPEN, `${workspaceId}|${messageId}`)}`;
}

export function clickUrl(workspaceId: string, messageId: string, url: string): string {
  return `${baseUrl()}/t/c/${signToken(CLICK, `${workspaceId}|${messageId}|${url}`)}`;
}

export function readOpenToken(token: string): { workspaceId: string; messageId: string } | null {
  const parts = readSignedToken(OPEN, token)?.split("|");
  if (!parts || parts.length !== 2) return null;
  return { workspaceId: parts[0]!, messageId: parts[1]! };
}

export function readClickToken(
  token: string,
): { workspaceId: string; messageId: string; url: string } | null {
  const payload = readSignedToken(CLICK, token);
  if (!payload) return null;
  const first = payload.indexOf("|");
  const second = payload.indexOf("|", first + 1);
  if (first <= 0 || second <= first) return null;
  const url = payload.slice(second + 1);
  if (!/^https?:\/\//i.test(url)) return null;
  return { workspaceId: payload.slice(0, first), messageId: payload.slice(first + 1, second), url };
}

const LINK = /(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?:\/\/[^"']+)\2/gi;

export interface ComposeOptions {
  target: UnsubscribeTarget;
  trackOpens: boolean;
  trackClicks: boolean;
}

/** The tenant's email with the unsubscribe footer and, if enabled, tracking added. */
export function composeMarketingEmail(
  content: Extract<MessageContent, { channel: "email" }>,
  options: ComposeOptions,
): Extract<MessageContent, { channel: "email" }> {
  const { target } = options;
  const unsubscribe = unsubscribeUrl(target);
  let html = content.html;
  if (options.trackClicks) {
    html = html.replace(
      LINK,
      (_all, start: string, quote: string, url: string) =>
        `${start}${quote}${escapeHtml(clickUrl(target.workspaceId, target.messageId, url.replace(/&amp;/g, "&")))}${quote}`,
    );
  }
  const footer =
    `<p style="font-size:12px;color:#666;margin-top:32px">You receive this email because you ` +
    `agreed to hear from us. <a href="${escapeHtml(unsubscribe)}">Unsubscribe</a></p>`;
  const pixel = options.trackOpens
    ? `<img src="${escapeHtml(openPixelUrl(target.workspaceId, target.messageId))}" width="1" height="1" alt="" style="display:block;border:0">`
    : "";
  html = /<\/body>/i.test(html)
    ? html.replace(/<\/body>/i, `${footer}${pixel}</body>`)
    : `${html}${footer}${pixel}`;
  const text = `${content.text}\n\n--\nUnsubscribe: ${unsubscribe}\n`;
  return { ...content, html, text };
}

/** Our open pixel, whatever host BASE_URL had when the email was written. */
const PIXEL_IMG = /<img\b[^>]*?\bsrc\s*=\s*["'][^"']*\/t\/o\/[A-Za-z0-9_.-]+["'][^>]*>/gi;
const TRACKED_HREF = /(\bhref\s*=\s*)(["'])[^"']*\/t\/c\/([A-Za-z0-9_.-]+)\2/gi;

/**
 * A stored marketing email as it may be shown inside the app (message page, dev mailbox): no
 * open pixel and every tracked link back to its own URL, so looking at an email can never count
 * as its recipient opening or clicking it, whoever looks and whatever their browser sends. A
 * link whose token cannot be read (signed under an older secret) loses its href rather than
 * keep a tracking URL.
 */
export function emailHtmlForDisplay(html: string): string {
  return html
    .replace(PIXEL_IMG, "")
    .replace(TRACKED_HREF, (_all, start: string, quote: string, token: string) => {
      const target = readClickToken(token);
      return target
        ? `${start}${quote}${escapeHtml(target.url)}${quote}`
        : `data-untracked-link=""`;
    });
}
