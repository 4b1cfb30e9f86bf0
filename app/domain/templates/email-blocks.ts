import { z } from "zod";
import { escapeHtml } from "~/lib/html";
import { findTags } from "./personalise";

/**
 * Email bodies written as blocks (ADR 0009): a short JSON list of headings, paragraphs,
 * buttons, images and dividers, rendered here to inline-styled table HTML that email clients
 * display alike, plus a plain-text part. Pure.
 *
 * Everything the author typed is escaped; links and images are absolute http(s) URLs, anything
 * else is shown as text. `{{ variable }}` tags pass through untouched (the result is itself a
 * template, rendered per recipient with HTML escaping), so they may stand in text and in URLs
 * after the scheme and host: `https://shop.example/?c={{ city | url_encode }}`.
 *
 * Paragraph text takes **bold**, _italic_, [links](https://…) and line breaks; `\*`, `\_`,
 * `\[` and `\]` write the character itself.
 */

export const MAX_BLOCKS = 100;
export const MAX_BLOCK_TEXT = 5000;
export const MAX_URL = 2048;

export type EmailBlock =
  | { type: "heading"; text: string; level?: 1 | 2 | 3 }
  | { type: "paragraph"; text: string }
  | { type: "button"; text: string; url: string; color?: string }
  | { type: "image"; src: string; alt: string; href?: string; width?: number }
  | { type: "divider" };

const FONT = "Helvetica,Arial,sans-serif";
const TEXT_COLOR = "#1f2933";
const LINK_COLOR = "#1d4ed8";
const DEFAULT_BUTTON = "#1d4ed8";
const HEADING_SIZE = { 1: 26, 2: 21, 3: 18 } as const;

// ---------------------------------------------------------------------------------------------
// Validation

/** An absolute http(s) URL, allowing `{{ tags }}` after the scheme and host. */
export function isSafeUrl(url: string): boolean {
  const plain = maskTags(url.trim(), () => "x").text;
  if (!/^https?:\/\/[^\s/?#]/i.test(plain) || /\s/.test(plain)) return false;
  try {
    const parsed = new URL(plain);
    return parsed.protocol === "https:" || parsed.protocol === "http:";
  } catch {
    return false;
  }
}

const text = (label: string, max = MAX_BLOCK_TEXT) =>
  z
    .string({ error: `${label} is required.` })
    .max(max, `${label} can be at most ${max} characters.`);
const url = (label: string) =>
  z
    .string({ error: `${label} is required.` })
    .trim()
    .min(1, `${label} is required.`)
    .max(MAX_URL, `${label} is too long.`)
    .refine(isSafeUrl, `${label} must be a full link starting with https:// (or http://).`);

export const EmailBlockSchema = z.discriminatedUnion(
  "type",
  [
    z
      .object({
        type: z.literal("heading"),
        text: text("A heading", 300).trim().min(1, "Write the heading."),
        level: z.union([z.literal(1), z.literal(2), z.literal(3)]).optional(),
      })
      .strict(),
    z
      .object({
        type: z.literal("paragraph"),
        text: text("A paragraph").refine((t) => t.trim() !== "", "Write the paragraph."),
      })
      .strict(),
    z
      .object({
        type: z.literal("button"),
        text: text("The button text", 80).trim().min(1, "Write the button text."),
        url: url("The button link"),
        color: z
          .string()
          .regex(/^#[0-9a-fA-F]{6}$/, "Choose a colour like #1d4ed8.")
          .optional(),
      })
      .strict(),
    z
      .object({
        type: z.literal("image"),
        src: url("The image address"),
        alt: text("The image description", 300).trim(),
        href: url("The image link").optional(),
        width: z
          .number()
          .int()
          .min(16, "At least 16 pixels.")
          .max(600, "At most 600 pixels.")
          .optional(),
      })
      .strict(),
    z.object({ type: z.literal("divider") }).strict(),
  ],
  { error: "Choose a heading, paragraph, button, image or divider." },
);

export const EmailBlocksSchema = z
  .array(EmailBlockSchema)
  .min(1, "Add at least one block to the email.")
  .max(MAX_BLOCKS, `An email can have at most ${MAX_BLOCKS} blocks.`);

/** The texts and URLs of a block that may carry `{{ variables }}`, by field name. */
export function blockFields(block: EmailBlock): [field: string, value: string][] {
  switch (block.type) {
    case "heading":
    case "paragraph":
      return [["text", block.text]];
    case "button":
      return [
        ["text", block.text],
        ["url", block.url],
      ];
    case "image":
      return [
        ["src", block.src],
        ["alt", block.alt],
        ...(block.href ? [["href", block.href] as [string, string]] : []),
      ];
    case "divider":
      return [];
  }
}

// ---------------------------------------------------------------------------------------------
// Tags pass through

const OPEN = "\uE000";
const CLOSE = "\uE001";
const PLACEHOLDER = /\uE000(\d+)\uE001/g;

/**
 * Replaces each `{{ tag }}` with a placeholder made of private-use characters, which escaping
 * and the inline syntax leave alone; `restore` puts the tag's source back.
 */
function maskTags(
  value: string,
  replacement?: (source: string) => string,
): { text: string; restore: (masked: string) => string } {
  const input = value.replace(/[\uE000\uE001]/g, "");
  const sources: string[] = [];
  let out = "";
  let i = 0;
  for (const tag of findTags(input)) {
    if (!tag.closed || tag.nested !== undefined) break;
    out += input.slice(i, tag.start);
    const source = input.slice(tag.start, tag.end);
    out += replacement ? replacement(source) : `${OPEN}${sources.length}${CLOSE}`;
    sources.push(source);
    i = tag.end;
  }
  out += input.slice(i);
  return {
    text: out,
    restore: (masked) => masked.replace(PLACEHOLDER, (_m, n: string) => sources[Number(n)] ?? ""),
  };
}

// ---------------------------------------------------------------------------------------------
// Inline text: **bold**, _italic_, [links](https://…)

type Inline =
  | { kind: "text"; value: string; rejectedUrl?: string }
  | { kind: "bold" | "italic"; children: Inline[] }
  | { kind: "link"; url: string; children: Inline[] };

const ESCAPABLE = new Set(["*", "_", "[", "]", "\\"]);
const WORD = /[\p{L}\p{N}]/u;

function parseInline(source: string, allowLinks = true): Inline[] {
  const nodes: Inline[] = [];
  let buffer = "";
  const flush = () => {
    if (buffer) nodes.push({ kind: "text", value: buffer });
    buffer = "";
  };
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === "\\" && ESCAPABLE.has(source[i + 1] ?? "") && source[i + 1] !== "\\") {
      buffer += source[i + 1];
      i += 2;
      continue;
    }
    if (c === "*" && source[i + 1] === "*") {
      const close = source.indexOf("**", i + 2);
      if (close > i + 2) {
        flush();
        nodes.push({ kind: "bold", children: parseInline(source.slice(i + 2, close), allowLinks) });
        i = close + 2;
        continue;
      }
    }
    if (c === "_" && !WORD.test(source[i - 1] ?? "") && source[i + 1] && source[i + 1] !== " ") {
      let close = source.indexOf("_", i + 1);
      while (close > 0 && WORD.test(source[close + 1] ?? "")) {
        close = source.indexOf("_", close + 1);
      }
      if (close > i + 1 && source[close - 1] !== " ") {
        flush();
        nodes.push({
          kind: "italic",
          children: parseInline(source.slice(i + 1, close), allowLinks),
        });
        i = close + 1;
        continue;
      }
    }
    if (c === "[" && allowLinks) {
      const mid = source.indexOf("](", i + 1);
      const end = mid > 0 ? closingParen(source, mid + 2) : -1;
      if (mid > i + 1 && end > mid + 2 && !source.slice(i + 1, mid).includes("[")) {
        const target = source.slice(mid + 2, end).trim();
        flush();
        const children = parseInline(source.slice(i + 1, mid), false);
        if (isSafeUrl(target)) nodes.push({ kind: "link", url: target, children });
        else nodes.push({ kind: "text", value: source.slice(i, end + 1), rejectedUrl: target });
        i = end + 1;
        continue;
      }
    }
    buffer += c;
    i++;
  }
  flush();
  return nodes;
}

/** The `)` that closes a link target starting at `from`, allowing balanced (…) inside. */
function closingParen(source: string, from: number): number {
  let depth = 0;
  for (let j = from; j < source.length; j++) {
    const c = source[j];
    if (c === "\n") return -1;
    if (c === "(") depth++;
    else if (c === ")" && depth-- === 0) return j;
  }
  return -1;
}

/** Links in paragraph text that are not absolute http(s) URLs (for a save-time error). */
export function unsafeLinks(source: string): string[] {
  const bad: string[] = [];
  const walk = (nodes: Inline[]) => {
    for (const node of nodes) {
      if (node.kind !== "text") walk(node.children);
      else if (node.rejectedUrl !== undefined) bad.push(node.rejectedUrl);
    }
  };
  const masked = maskTags(source);
  walk(parseInline(masked.text));
  return bad.map((u) => masked.restore(u));
}

/** Escapes text for HTML, leaving `{{ tags }}` as written (they are rendered, escaped, later). */
function escapeKeepingTags(value: string): string {
  const masked = maskTags(value);
  return masked.restore(escapeHtml(masked.text));
}

function inlineHtml(nodes: Inline[]): string {
  return nodes
    .map((node) => {
      switch (node.kind) {
        case "text":
          return escapeHtml(node.value).replace(/\n/g, "<br>\n");
        case "bold":
          return `<strong>${inlineHtml(node.children)}</strong>`;
        case "italic":
          return `<em>${inlineHtml(node.children)}</em>`;
        case "link":
          return `<a href="${escapeHtml(node.url)}" style="color:${LINK_COLOR};text-decoration:underline" target="_blank">${inlineHtml(node.children)}</a>`;
      }
    })
    .join("");
}

function inlineText(nodes: Inline[]): string {
  return nodes
    .map((node) => {
      if (node.kind === "text") return node.value;
      if (node.kind !== "link") return inlineText(node.children);
      const label = inlineText(node.children);
      return label.trim() === node.url ? node.url : `${label} (${node.url})`;
    })
    .join("");
}

// ---------------------------------------------------------------------------------------------
// Blocks to HTML + text

function cell(content: string, style = ""): string {
  return `<tr><td style="padding:0 0 16px 0;${style}">${content}</td></tr>`;
}

export interface EmailBody {
  /** The body: a table of rows with inline styles, meant for `emailDocument`. */
  html: string;
  text: string;
}

/**
 * Renders blocks to a body fragment (one table, inline styles, images fluid up to 600px) and its
 * plain-text part. Both keep `{{ variable }}` tags for per-recipient rendering.
 */
export function emailHtmlFromBlocks(blocks: readonly EmailBlock[]): EmailBody {
  const rows: string[] = [];
  const texts: string[] = [];
  for (const block of blocks) {
    switch (block.type) {
      case "heading": {
        const level = block.level ?? 1;
        const masked = maskTags(block.text.trim());
        const nodes = parseInline(masked.text);
        rows.push(
          cell(
            `<h${level} style="margin:0;font-family:${FONT};font-size:${HEADING_SIZE[level]}px;line-height:1.3;font-weight:700;color:${TEXT_COLOR}">${masked.restore(inlineHtml(nodes))}</h${level}>`,
          ),
        );
        texts.push(masked.restore(inlineText(nodes)));
        break;
      }
      case "paragraph": {
        const masked = maskTags(block.text.replace(/\r\n?/g, "\n").trim());
        const nodes = parseInline(masked.text);
        rows.push(
          cell(
            `<p style="margin:0;font-family:${FONT};font-size:16px;line-height:1.6;color:${TEXT_COLOR}">${masked.restore(inlineHtml(nodes))}</p>`,
          ),
        );
        texts.push(masked.restore(inlineText(nodes)));
        break;
      }
      case "button": {
        if (!isSafeUrl(block.url)) {
          rows.push(
            cell(`<p style="margin:0;font-family:${FONT}">${escapeKeepingTags(block.text)}</p>`),
          );
          texts.push(block.text);
          break;
        }
        const color = /^#[0-9a-fA-F]{6}$/.test(block.color ?? "") ? block.color! : DEFAULT_BUTTON;
        const href = escapeKeepingTags(block.url.trim());
        rows.push(
          cell(
            `<table role="presentation" border="0" cellpadding="0" cellspacing="0"><tr>` +
              `<td align="center" bgcolor="${color}" style="border-radius:6px;background-color:${color}">` +
              `<a href="${href}" target="_blank" style="display:inline-block;padding:12px 24px;font-family:${FONT};font-size:16px;font-weight:700;line-height:1.2;color:#ffffff;text-decoration:none;border-radius:6px">${escapeKeepingTags(block.text.trim())}</a>` +
              `</td></tr></table>`,
          ),
        );
        texts.push(`${block.text.trim()}: ${block.url.trim()}`);
        break;
      }
      case "image": {
        if (!isSafeUrl(block.src)) break;
        const width = block.width ?? 600;
        const img =
          `<img src="${escapeKeepingTags(block.src.trim())}" alt="${escapeKeepingTags(block.alt.trim())}" width="${width}" ` +
          `style="display:block;width:100%;max-width:${width}px;height:auto;border:0;outline:none;text-decoration:none">`;
        const linked =
          block.href && isSafeUrl(block.href)
            ? `<a href="${escapeKeepingTags(block.href.trim())}" target="_blank">${img}</a>`
            : img;
        rows.push(cell(linked));
        if (block.alt.trim()) {
          texts.push(
            block.href && isSafeUrl(block.href)
              ? `${block.alt.trim()} (${block.href.trim()})`
              : block.alt.trim(),
          );
        }
        break;
      }
      case "divider":
        rows.push(
          cell(
            `<table role="presentation" width="100%" border="0" cellpadding="0" cellspacing="0"><tr>` +
              `<td style="border-top:1px solid #e4e7eb;font-size:1px;line-height:1px;height:1px">&nbsp;</td></tr></table>`,
          ),
        );
        texts.push("----------");
        break;
    }
  }
  const html =
    `<table role="presentation" width="100%" border="0" cellpadding="0" cellspacing="0">` +
    `\n${rows.join("\n")}\n</table>`;
  return { html, text: texts.join("\n\n") };
}

// ---------------------------------------------------------------------------------------------
// The document around a body

/** Invisible filler after the preheader, so inboxes do not show body text after it. */
const PREHEADER_PADDING = "&#847;&zwnj;&nbsp;".repeat(40);

/**
 * A whole email document: the hidden preheader first (what inboxes show after the subject),
 * then the body centred in a 600px-wide column that shrinks on phones. Arguments are HTML
 * (already rendered and escaped). A body that is already a document (has <body>) is not
 * wrapped again; the preheader goes right after its <body> tag.
 */
export function emailDocument(options: {
  bodyHtml: string;
  preheaderHtml?: string;
  titleHtml?: string;
}): string {
  const preheader = options.preheaderHtml?.trim()
    ? `<span style="display:none!important;visibility:hidden;mso-hide:all;font-size:1px;line-height:1px;max-height:0;max-width:0;opacity:0;overflow:hidden;color:transparent">` +
      `${options.preheaderHtml}${PREHEADER_PADDING}</span>`
    : "";
  const bodyTag = /<body\b[^>]*>/i.exec(options.bodyHtml);
  if (bodyTag) {
    const at = bodyTag.index + bodyTag[0].length;
    return options.bodyHtml.slice(0, at) + preheader + options.bodyHtml.slice(at);
  }
  return (
    `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">\n` +
    `<meta name="x-apple-disable-message-reformatting">\n` +
    `<title>${options.titleHtml ?? ""}</title>\n</head>\n` +
    `<body style="margin:0;padding:0;background-color:#f3f4f6;-webkit-text-size-adjust:100%">\n` +
    preheader +
    `<table role="presentation" width="100%" border="0" cellpadding="0" cellspacing="0" style="background-color:#f3f4f6">` +
    `<tr><td align="center" style="padding:24px 12px">\n` +
    `<table role="presentation" width="100%" border="0" cellpadding="0" cellspacing="0" style="max-width:600px;background-color:#ffffff;border-radius:8px">` +
    `<tr><td style="padding:32px 24px 16px 24px;font-family:${FONT};font-size:16px;line-height:1.6;color:${TEXT_COLOR}">\n` +
    options.bodyHtml +
    `\n</td></tr></table>\n</td></tr></table>\n</body>\n</html>`
  );
}

// ---------------------------------------------------------------------------------------------
// HTML from elsewhere

const UNSAFE_ELEMENT =
  /<\s*(script|iframe|frame|frameset|object|embed|applet|form|input|button|textarea|select|base)\b/i;
const REFRESH = /<meta\b[^>]*http-equiv\s*=\s*["']?\s*refresh/i;
const EVENT_HANDLER = /<[^>]*\son[a-z]+\s*=/i;
const UNSAFE_URL =
  /\b(?:href|src|action|background|poster)\s*=\s*["']?\s*(?:javascript|vbscript|data):/i;

/**
 * Why HTML pasted from another editor cannot be an email body, or null. Not a sanitiser: it
 * refuses what mail clients strip anyway and what would run script in a preview. Previews of
 * raw HTML still belong in a sandboxed iframe.
 */
export function unsafeHtml(html: string): string | null {
  const element = UNSAFE_ELEMENT.exec(html);
  if (element) {
    return `Email HTML cannot contain <${element[1]!.toLowerCase()}> elements (mail clients remove them).`;
  }
  if (REFRESH.test(html)) return "Email HTML cannot redirect (meta refresh).";
  if (EVENT_HANDLER.test(html)) {
    return "Email HTML cannot contain event handlers such as onclick= (mail clients remove them).";
  }
  if (UNSAFE_URL.test(html)) {
    return "Links and images must use https:// (or http://) addresses, not javascript: or data:.";
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// HTML to text

const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
  zwnj: "",
  hellip: "…",
  mdash: "—",
  ndash: "–",
  copy: "©",
  reg: "®",
  rsquo: "’",
  lsquo: "‘",
  rdquo: "”",
  ldquo: "“",
};

function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, name: string) => {
    if (name[0] === "#") {
      const code =
        name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : Number(name.slice(1));
      if (code === 847 || code === 8204 || code === 65279) return "";
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : "";
    }
    return ENTITIES[name.toLowerCase()] ?? all;
  });
}

/**
 * A plain-text part for an HTML body: block elements become line breaks, links "label (url)",
 * everything else its text. `{{ tags }}` are kept as they are.
 */
export function htmlToText(html: string): string {
  const masked = maskTags(html);
  let text = masked.text
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/<(head|style|script|title)\b[\s\S]*?<\/\1\s*>/gi, "")
    .replace(/<span\b[^>]*display\s*:\s*none[^>]*>[\s\S]*?<\/span>/gi, "")
    .replace(
      /<a\b[^>]*?\bhref\s*=\s*(["'])(.*?)\1[^>]*>([\s\S]*?)<\/a\s*>/gi,
      (_all, _q: string, href: string, label: string) => {
        const inner = label.replace(/<[^>]*>/g, "").trim();
        const url = decodeEntities(href);
        if (!/^(https?:|mailto:)/i.test(url)) return inner;
        return !inner || decodeEntities(inner) === url ? url : `${inner} (${url})`;
      },
    )
    .replace(/<img\b[^>]*?\balt\s*=\s*(["'])(.*?)\1[^>]*>/gi, (_a, _q: string, alt: string) => alt)
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<li\b[^>]*>/gi, "\n- ")
    .replace(/<hr\b[^>]*>/gi, "\n----------\n")
    .replace(/<\/?(p|div|h[1-6]|tr|table|ul|ol|blockquote|section|header|footer)\b[^>]*>/gi, "\n\n")
    .replace(/<[^>]*>/g, "");
  text = decodeEntities(text)
    .replace(/[ \t\u00a0]+/g, " ")
    .replace(/ *\n */g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
  return masked.restore(text);
}
