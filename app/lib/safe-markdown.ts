/**
 * A small Markdown subset for documents an operator publishes (privacy policy versions):
 * headings, paragraphs, bullet and numbered lists, pipe tables, links, **strong**, *emphasis*
 * and `code`. It produces data, not HTML: React renders every piece as text, so HTML in the
 * source shows as the characters typed and never becomes markup. Links keep only http(s),
 * mailto and same-site targets; anything else (javascript:, data:) stays plain text.
 *
 * Why not a library: none is a runtime dependency. The micromark/mdast packages in node_modules
 * come with @remix-run/dev (MDX, build time only), have no GFM tables without another package,
 * and produce HTML that would need a sanitiser; a policy needs only this subset.
 */

export type Inline =
  | { kind: "text" | "strong" | "em" | "code"; text: string }
  | { kind: "link"; text: string; href: string };

export type DocBlock =
  | { kind: "heading"; level: 2 | 3 | 4; content: Inline[] }
  | { kind: "paragraph"; content: Inline[] }
  | { kind: "list"; ordered: boolean; items: Inline[][] }
  | { kind: "table"; header: Inline[][]; rows: Inline[][][] };

export function plainText(text: string): Inline[] {
  return [{ kind: "text", text }];
}

/** The text of inline content, without its formatting (for titles, tests, search). */
export function inlineText(content: Inline[]): string {
  return content.map((part) => part.text).join("");
}

/** Link targets a published document may use; null means "show the link text only". */
export function safeHref(raw: string): string | null {
  const href = raw.trim();
  if (/^\/(?!\/)/.test(href) || href.startsWith("#")) return href;
  try {
    const url = new URL(href);
    return ["http:", "https:", "mailto:"].includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

const ESCAPABLE = "\\`*_{}[]()#+-.!|<>~";

// One alternation, tried left to right at each position: escape, code, strong, emphasis, link,
// autolink. Underscore emphasis needs word boundaries so snake_case stays as typed.
const INLINE =
  /\\(.)|`([^`]+)`|\*\*(.+?)\*\*|__(.+?)__|\*([^*\s](?:[^*]*[^*\s])?)\*|(?<![\w])_([^_\s](?:[^_]*[^_\s])?)_(?![\w])|\[([^\]]+)\]\(([^)\s]+)\)|<((?:https?|mailto):[^>\s]+)>/gu;

export function parseInline(source: string): Inline[] {
  const parts: Inline[] = [];
  const pushText = (text: string) => {
    if (!text) return;
    const last = parts[parts.length - 1];
    if (last?.kind === "text") last.text += text;
    else parts.push({ kind: "text", text });
  };
  let at = 0;
  for (const match of source.matchAll(INLINE)) {
    const [whole, escaped, code, strong1, strong2, em1, em2, linkText, linkHref, autolink] = match;
    pushText(source.slice(at, match.index));
    at = match.index + whole.length;
    if (escaped !== undefined) {
      pushText(ESCAPABLE.includes(escaped) ? escaped : whole);
    } else if (code !== undefined) {
      parts.push({ kind: "code", text: code });
    } else if (strong1 !== undefined || strong2 !== undefined) {
      parts.push({ kind: "strong", text: unescape(strong1 ?? strong2!) });
    } else if (em1 !== undefined || em2 !== undefined) {
      parts.push({ kind: "em", text: unescape(em1 ?? em2!) });
    } else if (linkText !== undefined) {
      const href = safeHref(linkHref!);
      const text = unescape(linkText);
      if (href) parts.push({ kind: "link", text, href });
      else pushText(text);
    } else if (autolink !== undefined) {
      const href = safeHref(autolink);
      if (href) parts.push({ kind: "link", text: autolink, href });
      else pushText(autolink);
    }
  }
  pushText(source.slice(at));
  return parts;
}

function unescape(text: string): string {
  return text.replace(/\\(.)/gu, (whole, c: string) => (ESCAPABLE.includes(c) ? c : whole));
}

const HEADING = /^(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/;
const BULLET = /^\s{0,3}[-*+]\s+(.*)$/;
const NUMBERED = /^\s{0,3}\d{1,9}[.)]\s+(.*)$/;
const RULE = /^\s{0,3}([-*_])(?:\s*\1){2,}\s*$/;
const TABLE_DELIMITER = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

function tableCells(line: string): Inline[][] {
  const inner = line
    .trim()
    .replace(/^\|/, "")
    .replace(/(?<!\\)\|$/, "");
  return inner.split(/(?<!\\)\|/).map((cell) => parseInline(cell.trim()));
}

/** Parses the Markdown subset into blocks. Lines it does not understand become paragraphs. */
export function parseSafeMarkdown(markdown: string): DocBlock[] {
  const lines = markdown.replace(/\r\n?/g, "\n").split("\n");
  const blocks: DocBlock[] = [];
  let paragraph: string[] = [];
  let list: { ordered: boolean; items: string[] } | null = null;

  const flush = () => {
    if (paragraph.length) {
      blocks.push({ kind: "paragraph", content: parseInline(paragraph.join(" ")) });
      paragraph = [];
    }
    if (list) {
      blocks.push({
        kind: "list",
        ordered: list.ordered,
        items: list.items.map((item) => parseInline(item)),
      });
      list = null;
    }
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim()) {
      flush();
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      flush();
      const level = Math.min(heading[1]!.length + 1, 4) as 2 | 3 | 4;
      blocks.push({ kind: "heading", level, content: parseInline(heading[2]!) });
      continue;
    }
    if (RULE.test(line)) {
      flush();
      continue;
    }
    const next = lines[i + 1];
    if (
      line.includes("|") &&
      next !== undefined &&
      TABLE_DELIMITER.test(next) &&
      next.includes("-")
    ) {
      flush();
      const header = tableCells(line);
      const rows: Inline[][][] = [];
      i += 1;
      while (i + 1 < lines.length && lines[i + 1]!.includes("|") && lines[i + 1]!.trim()) {
        i += 1;
        rows.push(tableCells(lines[i]!));
      }
      blocks.push({ kind: "table", header, rows });
      continue;
    }
    const bullet = BULLET.exec(line);
    const numbered = bullet ? null : NUMBERED.exec(line);
    if (bullet || numbered) {
      const ordered = Boolean(numbered);
      if (paragraph.length || (list && list.ordered !== ordered)) flush();
      list ??= { ordered, items: [] };
      list.items.push((bullet ?? numbered)![1]!);
      continue;
    }
    if (list && /^\s+\S/.test(line)) {
      // An indented line continues the last item.
      list.items[list.items.length - 1] += ` ${line.trim()}`;
      continue;
    }
    if (list) flush();
    paragraph.push(line.trim().replace(/^>\s?/, ""));
  }
  flush();
  return blocks;
}
