import { findTags } from "./personalise";

/**
 * Telegram messages are sent with parse_mode HTML. Telegram rejects the whole message when the
 * markup is off, so we check it when the template is saved: only <b>, <i>, <u>, <s>, <a href>,
 * <code> and <pre>, properly nested and closed; every other <, > and & written as an entity.
 * Values of `{{ variables }}` are HTML-escaped when rendered, so they cannot break the markup.
 * Pure.
 */

export const TELEGRAM_TAGS = ["b", "i", "u", "s", "a", "code", "pre"] as const;
export const TELEGRAM_MAX_TEXT = 4096;
export const TELEGRAM_MAX_BUTTONS = 3;

const ALLOWED = new Set<string>(TELEGRAM_TAGS);
const ENTITY = /^&(?:lt|gt|amp|quot|#\d{1,7}|#x[0-9a-f]{1,6});/i;
const TAG = /^<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*)?)>/;
const HREF = /^\s+href\s*=\s*(?:"([^"]*)"|'([^']*)')\s*$/i;
const CODE_CLASS = /^\s+class\s*=\s*(?:"language-[\w+#-]+"|'language-[\w+#-]+')\s*$/i;

export type TelegramCheck = { ok: true; length: number } | { ok: false; message: string };

/** Replaces `{{ tags }}` by a neutral character so markup checks see plain text. */
function withoutTags(text: string): string {
  let out = "";
  let i = 0;
  for (const tag of findTags(text)) {
    if (!tag.closed || tag.nested !== undefined) break;
    out += text.slice(i, tag.start) + "x";
    i = tag.end;
  }
  return out + text.slice(i);
}

/** Checks Telegram HTML; `length` is the visible length (tags and entities resolved). */
export function checkTelegramHtml(source: string): TelegramCheck {
  const text = withoutTags(source);
  const stack: string[] = [];
  let visible = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "<") {
      const m = TAG.exec(text.slice(i));
      if (!m) {
        return { ok: false, message: "A “<” that does not start a tag: write &lt; instead." };
      }
      const [whole, closing, rawName, attributes] = m as unknown as [
        string,
        string,
        string,
        string,
      ];
      const name = rawName.toLowerCase();
      if (!ALLOWED.has(name)) {
        return {
          ok: false,
          message: `Telegram does not allow <${name}>. Use <b>, <i>, <u>, <s>, <a href="…">, <code> or <pre>.`,
        };
      }
      if (closing) {
        if (attributes.trim()) return { ok: false, message: `</${name}> cannot have attributes.` };
        const open = stack.pop();
        if (open !== name) {
          return {
            ok: false,
            message: open
              ? `</${name}> closes <${open}>: close <${open}> first.`
              : `</${name}> has no opening <${name}>.`,
          };
        }
      } else if (name === "a") {
        const href = HREF.exec(attributes);
        const url = href ? (href[1] ?? href[2] ?? "").trim() : "";
        if (!href || !/^(https?:\/\/[^\s]+|tg:\/\/[^\s]+)$/i.test(url)) {
          return { ok: false, message: 'A link needs an https:// address: <a href="https://…">.' };
        }
        if (stack.includes("a")) return { ok: false, message: "A link cannot contain a link." };
        stack.push(name);
      } else {
        if (attributes.trim() && !(name === "code" && CODE_CLASS.test(attributes))) {
          return { ok: false, message: `<${name}> takes no attributes.` };
        }
        stack.push(name);
      }
      i += whole.length;
      continue;
    }
    if (c === "&") {
      const m = ENTITY.exec(text.slice(i, i + 12));
      if (!m)
        return {
          ok: false,
          message: "Write a “&” as &amp; (Telegram reads & as the start of an entity).",
        };
      visible++;
      i += m[0].length;
      continue;
    }
    if (c === ">") return { ok: false, message: "Write a “>” as &gt;." };
    visible++;
    i++;
  }
  if (stack.length) return { ok: false, message: `<${stack[stack.length - 1]}> is not closed.` };
  return { ok: true, length: visible };
}
