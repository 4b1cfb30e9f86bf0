import { escapeHtml } from "~/lib/html";

/**
 * The shared frame of every transactional email: one plain-text and one HTML rendering of the
 * same blocks. Templates are pure functions of their data; everything a user or a request can
 * influence (names, workspace names, user agents) goes through `escapeHtml` in the HTML body,
 * and every link through `safeUrl`.
 *
 * Styles are inline attributes only: mail clients drop <style> blocks, and the dev mailbox
 * previews the HTML under the app's CSP, which allows style attributes but no style elements.
 */

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/** Added by the sender (domain/mail) to every template's data. */
export interface MailFrame {
  /** The app's public origin, e.g. https://engage.pleisys.com (no trailing slash). */
  baseUrl: string;
  /**
   * For required mail: a link that stops optional mail to this address (policy §6 promises an
   * unsubscribe link in every email). Optional mail types make it required in their own data.
   */
  unsubscribeUrl?: string;
}

export type Block =
  | { kind: "paragraph"; text: string }
  | { kind: "details"; rows: [label: string, value: string][] }
  | { kind: "action"; label: string; url: string };

export const paragraph = (text: string): Block => ({ kind: "paragraph", text });
export const details = (rows: [string, string][]): Block => ({ kind: "details", rows });
export const action = (label: string, url: string): Block => ({ kind: "action", label, url });

/**
 * User-supplied text for one line (a name, a workspace, a user agent): control characters and
 * line breaks collapse to spaces so nobody can forge extra lines, and long values are cut.
 */
export function oneLine(value: string, max = 120): string {
  // eslint-disable-next-line no-control-regex
  const flat = value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\s]+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1).trimEnd()}…` : flat;
}

/** Links in mail are absolute http(s) URLs; anything else is a programming error. */
export function safeUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError("Email links must be absolute URLs");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new TypeError("Email links must use http or https");
  }
  return url.href;
}

/** A fixed, locale-independent time, e.g. "10 Jun 2026, 14:05 UTC". */
export function formatUtc(at: Date): string {
  const months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(" ");
  const pad = (n: number) => String(n).padStart(2, "0");
  return (
    `${at.getUTCDate()} ${months[at.getUTCMonth()]} ${at.getUTCFullYear()}, ` +
    `${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())} UTC`
  );
}

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export interface LayoutInput {
  frame: MailFrame;
  subject: string;
  /** Hidden preview line shown by mail clients next to the subject. */
  preheader: string;
  heading: string;
  blocks: Block[];
  /** Why the recipient gets this mail, shown in the footer. */
  reason: string;
  /**
   * "required": sent whatever the address opted out of; the footer still offers a link that stops
   * optional mail. "optional": the footer link unsubscribes from this kind of mail.
   */
  footer: { kind: "required" } | { kind: "optional"; what: string; unsubscribeUrl: string };
}

const PRODUCT = "Pleisys Engage";

const COLORS = {
  text: "#1f2933",
  muted: "#52606d",
  border: "#d9e2ec",
  brand: "#0b5fff",
  background: "#f5f7fa",
};

function footerLines(input: LayoutInput): { text: string; url?: string }[] {
  const lines: { text: string; url?: string }[] = [{ text: input.reason }];
  if (input.footer.kind === "optional") {
    lines.push({
      text: `Don't want ${input.footer.what}? Unsubscribe:`,
      url: safeUrl(input.footer.unsubscribeUrl),
    });
  } else {
    lines.push({
      text: "This is a service message, so it is sent even if you unsubscribed from optional emails.",
    });
    if (input.frame.unsubscribeUrl) {
      lines.push({
        text: `To stop optional emails from ${PRODUCT}, unsubscribe:`,
        url: safeUrl(input.frame.unsubscribeUrl),
      });
    }
  }
  lines.push({ text: "Privacy policy:", url: safeUrl(`${input.frame.baseUrl}/privacy`) });
  return lines;
}

function renderText(input: LayoutInput): string {
  const out: string[] = [input.heading, ""];
  for (const block of input.blocks) {
    switch (block.kind) {
      case "paragraph":
        out.push(block.text, "");
        break;
      case "details":
        for (const [label, value] of block.rows) out.push(`${label}: ${value}`);
        out.push("");
        break;
      case "action":
        out.push(`${block.label}:`, safeUrl(block.url), "");
        break;
    }
  }
  out.push("-- ", `${PRODUCT} · ${input.frame.baseUrl}`);
  for (const line of footerLines(input)) {
    out.push(line.url ? `${line.text} ${line.url}` : line.text);
  }
  return out.join("\n") + "\n";
}

function renderHtml(input: LayoutInput): string {
  const p = `margin:0 0 16px;font-size:16px;line-height:24px;color:${COLORS.text}`;
  const body = input.blocks
    .map((block) => {
      switch (block.kind) {
        case "paragraph":
          return `<p style="${p}">${escapeHtml(block.text)}</p>`;
        case "details":
          return (
            `<table role="presentation" cellpadding="0" cellspacing="0" style="margin:0 0 16px;font-size:15px;line-height:22px;color:${COLORS.text}">` +
            block.rows
              .map(
                ([label, value]) =>
                  `<tr><td style="padding:2px 16px 2px 0;color:${COLORS.muted};vertical-align:top">${escapeHtml(label)}</td>` +
                  `<td style="padding:2px 0">${escapeHtml(value)}</td></tr>`,
              )
              .join("") +
            `</table>`
          );
        case "action": {
          const href = escapeHtml(safeUrl(block.url));
          return (
            `<p style="margin:24px 0">` +
            `<a href="${href}" style="display:inline-block;padding:12px 20px;border-radius:6px;background:${COLORS.brand};color:#ffffff;font-weight:600;text-decoration:none">${escapeHtml(block.label)}</a></p>` +
            `<p style="margin:0 0 16px;font-size:13px;line-height:20px;color:${COLORS.muted}">If the button does not work, copy this link into your browser:<br>` +
            `<a href="${href}" style="color:${COLORS.brand};word-break:break-all">${href}</a></p>`
          );
        }
      }
    })
    .join("\n");
  const footer = footerLines(input)
    .map((line) =>
      line.url
        ? `<p style="margin:0 0 8px">${escapeHtml(line.text)} <a href="${escapeHtml(line.url)}" style="color:${COLORS.muted}">${escapeHtml(line.url)}</a></p>`
        : `<p style="margin:0 0 8px">${escapeHtml(line.text)}</p>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(input.subject)}</title>
</head>
<body style="margin:0;padding:0;background:${COLORS.background};font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif">
<div style="display:none;max-height:0;overflow:hidden">${escapeHtml(input.preheader)}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:${COLORS.background}">
<tr><td align="center" style="padding:24px 12px">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border:1px solid ${COLORS.border};border-radius:8px">
<tr><td style="padding:32px">
<p style="margin:0 0 24px;font-size:14px;font-weight:700;color:${COLORS.brand}">${PRODUCT}</p>
<h1 style="margin:0 0 16px;font-size:22px;line-height:30px;color:${COLORS.text}">${escapeHtml(input.heading)}</h1>
${body}
</td></tr>
</table>
<div style="max-width:560px;padding:16px 8px;font-size:12px;line-height:18px;color:${COLORS.muted};text-align:left">
${footer}
</div>
</td></tr>
</table>
</body>
</html>
`;
}

export function renderMail(input: LayoutInput): RenderedMail {
  return { subject: oneLine(input.subject, 200), text: renderText(input), html: renderHtml(input) };
}
