/**
 * Personalisation: a tiny Liquid-like language for message text. Pure (no server imports), so
 * the editor's live checks and the delivery path run the same code.
 *
 *   Hi {{ first_name | default: "there" }}, your {{ attributes.city | upcase }} store…
 *
 * - A tag is `{{ variable | filter | filter: argument }}`. Variables are the built-in contact
 *   fields (BUILT_IN_VARIABLES) and custom attribute keys, written plain (`city`) or as
 *   `attributes.city`. A built-in wins over an attribute with the same key; `attributes.<key>`
 *   always means the attribute.
 * - Filters: `default: "…"` (when the value is missing or blank), `upcase`, `downcase`,
 *   `capitalize` (first letter upper case, the rest left as is, so "mcDonald" stays
 *   "McDonald"), `truncate: N` (at most N characters, ending in "…") and `url_encode` (for a
 *   value inside a link).
 * - Strings take double or single straight quotes; `\"`, `\'` and `\\` escape inside them.
 * - `\{{` writes a literal `{{`. A `}}` outside a tag, and single braces, are plain text.
 * - `{{ prompt: Order number }}` is a value the sender types each time (canned responses); its
 *   variable is named "prompt:Order number" and takes filters like any other.
 * - A value that is missing renders as "" (unless a default applies); numbers as written;
 *   booleans as "yes" / "no". With `escapeHtml`, every rendered value (defaults included) is
 *   HTML-escaped; literal text is never touched.
 */

import { escapeHtml } from "~/lib/html";

export const BUILT_IN_VARIABLES = [
  "first_name",
  "last_name",
  "name",
  "email",
  "phone",
  "country",
] as const;
export type BuiltInVariable = (typeof BUILT_IN_VARIABLES)[number];

export const BUILT_IN_VARIABLE_LABELS: Record<BuiltInVariable, string> = {
  first_name: "First name",
  last_name: "Last name",
  name: "Full name",
  email: "Email",
  phone: "Phone",
  country: "Country",
};

export const FILTERS = ["default", "upcase", "downcase", "capitalize", "truncate", "url_encode"];
export const MAX_TRUNCATE = 1000;

export type TemplateFilter =
  | { name: "default"; value: string }
  | { name: "upcase" | "downcase" | "capitalize" | "url_encode" }
  | { name: "truncate"; length: number };

export type TemplatePart =
  | { type: "text"; value: string }
  | {
      type: "variable";
      /** As written: "first_name", "city" or "attributes.city". */
      name: string;
      filters: TemplateFilter[];
      /** Offsets of the whole tag (`{{` to `}}` inclusive) in the source text. */
      start: number;
      end: number;
    };

export interface ParsedTemplate {
  parts: TemplatePart[];
  /** Each variable once, in order of first use. */
  variables: string[];
}

export interface TemplateError {
  /** 0-based offset into the text. */
  position: number;
  /** 1-based line and column (in UTF-16 code units), for messages. */
  line: number;
  column: number;
  message: string;
}

export type ParseResult = ({ ok: true } & ParsedTemplate) | { ok: false; errors: TemplateError[] };

export type TemplateValue = string | number | boolean | null | undefined;
export type TemplateValues = Record<string, TemplateValue>;

// ---------------------------------------------------------------------------------------------
// Finding tags

export interface TagSpan {
  /** Offset of `{{`. */
  start: number;
  /** Offset just after `}}`; for an unclosed tag, the text's length. */
  end: number;
  closed: boolean;
  /** Where a string inside the tag starts that is never closed (the tag then is unclosed). */
  openQuote?: number;
  /** A `{{` inside the tag, outside quotes. */
  nested?: number;
}

/**
 * The `{{ … }}` tags of a text, as the parser sees them (quotes respected, `\{{` skipped). Used
 * by other pure modules that must leave tags alone (email blocks, Telegram HTML, DLT checks).
 */
export function findTags(text: string): TagSpan[] {
  const tags: TagSpan[] = [];
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf("{{", i);
    if (open < 0) break;
    if (open > 0 && text[open - 1] === "\\" && !(open > 1 && text[open - 2] === "\\")) {
      i = open + 2;
      continue;
    }
    const span = scanTag(text, open);
    tags.push(span);
    if (!span.closed) break;
    i = span.nested ?? span.end;
  }
  return tags;
}

function scanTag(text: string, open: number): TagSpan {
  let quote: string | null = null;
  let quoteAt = -1;
  let nested: number | undefined;
  for (let j = open + 2; j < text.length; j++) {
    const c = text[j];
    if (quote) {
      if (c === "\\") j++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      quoteAt = j;
    } else if (c === "}" && text[j + 1] === "}") {
      return nested === undefined
        ? { start: open, end: j + 2, closed: true }
        : { start: open, end: j + 2, closed: true, nested };
    } else if (c === "{" && text[j + 1] === "{" && nested === undefined) {
      nested = j;
      // The outer tag is broken; report it and carry on from the inner one.
      return { start: open, end: j, closed: true, nested };
    }
  }
  return quote
    ? { start: open, end: text.length, closed: false, openQuote: quoteAt }
    : { start: open, end: text.length, closed: false };
}

// ---------------------------------------------------------------------------------------------
// Parsing

function lineColumn(text: string, position: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < position && i < text.length; i++) {
    if (text[i] === "\n") {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: position - lineStart + 1 };
}

/** "Line 2, column 5: …" for a field error. */
export function formatTemplateError(error: TemplateError): string {
  return `Line ${error.line}, column ${error.column}: ${error.message}`;
}

type Token =
  | { kind: "ident"; value: string; at: number }
  | { kind: "string"; value: string; at: number }
  | { kind: "number"; value: number; at: number }
  | { kind: "pipe"; at: number }
  | { kind: "colon"; at: number }
  | { kind: "bad"; value: string; at: number };

class TagSyntaxError extends Error {
  constructor(
    readonly at: number,
    message: string,
  ) {
    super(message);
  }
}

const IDENT = /[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/y;
const NUMBER_TOKEN = /\d+/y;

function tokenize(source: string, base: number): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "|" || c === ":") {
      tokens.push(c === "|" ? { kind: "pipe", at: base + i } : { kind: "colon", at: base + i });
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let value = "";
      let j = i + 1;
      for (; j < source.length && source[j] !== c; j++) {
        if (source[j] === "\\" && j + 1 < source.length) j++;
        value += source[j];
      }
      if (j >= source.length) {
        throw new TagSyntaxError(base + i, `The quoted text starting here has no closing ${c}.`);
      }
      tokens.push({ kind: "string", value, at: base + i });
      i = j + 1;
      continue;
    }
    IDENT.lastIndex = i;
    const ident = IDENT.exec(source);
    if (ident) {
      tokens.push({ kind: "ident", value: ident[0], at: base + i });
      i += ident[0].length;
      continue;
    }
    NUMBER_TOKEN.lastIndex = i;
    const number = NUMBER_TOKEN.exec(source);
    if (number) {
      tokens.push({ kind: "number", value: Number(number[0]), at: base + i });
      i += number[0].length;
      continue;
    }
    const char = String.fromCodePoint(source.codePointAt(i)!);
    tokens.push({ kind: "bad", value: char, at: base + i });
    i += char.length;
  }
  return tokens;
}

const CURLY_QUOTES = /[\u2018\u2019\u201c\u201d\u00ab\u00bb]/;

function unexpected(token: Token, expected: string): TagSyntaxError {
  if (token.kind === "bad" && CURLY_QUOTES.test(token.value)) {
    return new TagSyntaxError(token.at, `Use straight quotes (" or ') here, not ${token.value}.`);
  }
  let shown: string;
  if (token.kind === "pipe") shown = "|";
  else if (token.kind === "colon") shown = ":";
  else if (token.kind === "string") shown = `"${token.value}"`;
  else shown = String(token.value);
  return new TagSyntaxError(token.at, `Unexpected “${shown}”: ${expected}.`);
}

/** `{{ prompt: Order number }}`: a value the sender types each time (canned responses). */
export const PROMPT_PREFIX = "prompt:";
const PROMPT_TAG = /^\s*prompt\s*:/;
const MAX_PROMPT_LABEL = 60;

/** The label of a prompt variable ("prompt:Order number" → "Order number"), else null. */
export function promptLabel(variable: string): string | null {
  return variable.startsWith(PROMPT_PREFIX) ? variable.slice(PROMPT_PREFIX.length) : null;
}

/** A prompt's label (quoted or bare, up to the first |) and where its filters start. */
function parsePrompt(source: string, base: number): { name: string; rest: number } {
  const head = PROMPT_TAG.exec(source)![0].length;
  let end = source.length;
  let quote: string | null = null;
  for (let j = head; j < source.length; j++) {
    const c = source[j];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "|") {
      end = j;
      break;
    }
  }
  let label = source.slice(head, end).trim();
  const q = label[0];
  if ((q === '"' || q === "'") && label.length >= 2 && label.endsWith(q)) {
    label = label.slice(1, -1).trim();
  }
  if (!label) {
    throw new TagSyntaxError(
      base + head,
      "Name the value to ask for, e.g. {{ prompt: Order number }}.",
    );
  }
  if (label.length > MAX_PROMPT_LABEL || /[{}|"]/.test(label)) {
    throw new TagSyntaxError(
      base + head,
      `A prompt's name is at most ${MAX_PROMPT_LABEL} characters, without braces, quotes or |.`,
    );
  }
  return { name: `${PROMPT_PREFIX}${label}`, rest: end };
}

function parseExpression(
  source: string,
  base: number,
  tagStart: number,
): { name: string; filters: TemplateFilter[] } {
  let name: string;
  let tokens: Token[];
  let k = 0;
  if (PROMPT_TAG.test(source)) {
    const prompt = parsePrompt(source, base);
    name = prompt.name;
    tokens = tokenize(source.slice(prompt.rest), base + prompt.rest);
  } else {
    tokens = tokenize(source, base);
    if (tokens.length === 0) {
      throw new TagSyntaxError(
        tagStart,
        "This tag is empty: put a variable between {{ and }}, e.g. {{ first_name }}.",
      );
    }
    const first = tokens[k++]!;
    if (first.kind !== "ident") {
      throw unexpected(first, "expected a variable name, e.g. first_name");
    }
    name = first.value;
  }
  const filters: TemplateFilter[] = [];
  while (k < tokens.length) {
    const pipe = tokens[k++]!;
    if (pipe.kind !== "pipe") throw unexpected(pipe, "separate filters with |");
    const filter = tokens[k++];
    if (!filter) throw new TagSyntaxError(pipe.at, "Put a filter name after |.");
    if (filter.kind !== "ident") throw unexpected(filter, "expected a filter name after |");
    if (!FILTERS.includes(filter.value)) {
      throw new TagSyntaxError(
        filter.at,
        `Unknown filter “${filter.value}”. Use default, upcase, downcase, capitalize, truncate or url_encode.`,
      );
    }
    let argument: Token | undefined;
    if (tokens[k]?.kind === "colon") {
      const colon = tokens[k++]!;
      argument = tokens[k++];
      if (!argument) throw new TagSyntaxError(colon.at, `Put a value after “${filter.value}:”.`);
    }
    switch (filter.value) {
      case "default":
        if (!argument) {
          throw new TagSyntaxError(
            filter.at,
            'default needs a value in quotes, e.g. default: "there".',
          );
        }
        if (argument.kind === "string") filters.push({ name: "default", value: argument.value });
        else if (argument.kind === "number") {
          filters.push({ name: "default", value: String(argument.value) });
        } else if (argument.kind === "ident") {
          throw new TagSyntaxError(
            argument.at,
            `Put the default value in quotes: default: "${argument.value}".`,
          );
        } else throw unexpected(argument, 'expected a value in quotes, e.g. default: "there"');
        break;
      case "truncate":
        if (!argument || argument.kind !== "number") {
          throw new TagSyntaxError(
            (argument ?? filter).at,
            "truncate needs a number of characters, e.g. truncate: 20.",
          );
        }
        if (argument.value < 1 || argument.value > MAX_TRUNCATE) {
          throw new TagSyntaxError(argument.at, `truncate takes 1 to ${MAX_TRUNCATE} characters.`);
        }
        filters.push({ name: "truncate", length: argument.value });
        break;
      default:
        if (argument) throw new TagSyntaxError(argument.at, `${filter.value} takes no value.`);
        filters.push({ name: filter.value as "upcase" | "downcase" | "capitalize" | "url_encode" });
    }
  }
  return { name, filters };
}

/** Parses a text; malformed tags come back as errors with their position, never thrown. */
export function parseTemplate(text: string): ParseResult {
  const parts: TemplatePart[] = [];
  const variables: string[] = [];
  const errors: TemplateError[] = [];
  const fail = (position: number, message: string) =>
    errors.push({ position, ...lineColumn(text, position), message });
  let literal = "";
  let i = 0;
  const flush = () => {
    if (literal) parts.push({ type: "text", value: literal });
    literal = "";
  };
  while (i < text.length) {
    const open = text.indexOf("{{", i);
    if (open < 0) break;
    if (open > 0 && text[open - 1] === "\\" && !(open > 1 && text[open - 2] === "\\")) {
      literal += text.slice(i, open - 1) + "{{";
      i = open + 2;
      continue;
    }
    literal += text.slice(i, open);
    const span = scanTag(text, open);
    if (!span.closed) {
      if (span.openQuote !== undefined) {
        fail(
          span.openQuote,
          `The quoted text starting here has no closing ${text[span.openQuote]}.`,
        );
      } else fail(open, "This {{ is not closed: end the tag with }}.");
      i = text.length;
      literal += text.slice(open);
      break;
    }
    if (span.nested !== undefined) {
      fail(span.nested, "A tag cannot contain {{: close the first tag with }} before this one.");
      literal += text.slice(open, span.nested);
      i = span.nested;
      continue;
    }
    try {
      const { name, filters } = parseExpression(text.slice(open + 2, span.end - 2), open + 2, open);
      flush();
      parts.push({ type: "variable", name, filters, start: open, end: span.end });
      if (!variables.includes(name)) variables.push(name);
    } catch (error) {
      if (!(error instanceof TagSyntaxError)) throw error;
      fail(error.at, error.message);
      literal += text.slice(open, span.end);
    }
    i = span.end;
  }
  literal += text.slice(i);
  flush();
  return errors.length ? { ok: false, errors } : { ok: true, parts, variables };
}

// ---------------------------------------------------------------------------------------------
// Variables

/** Built-ins plus the workspace's custom attribute keys (plain and as attributes.<key>). */
export function knownVariables(attributeKeys: Iterable<string>): Set<string> {
  const known = new Set<string>(BUILT_IN_VARIABLES);
  for (const key of attributeKeys) {
    known.add(key);
    known.add(`attributes.${key}`);
  }
  return known;
}

/** The variables that are neither a contact field nor a custom attribute, in order. */
export function validateVariables(
  variables: readonly string[],
  known: ReadonlySet<string>,
): string[] {
  return variables.filter((v, i) => !known.has(v) && variables.indexOf(v) === i);
}

/** The message for an unknown variable, shown next to the field. */
export function unknownVariableMessage(name: string): string {
  return `{{ ${name} }} is not a contact field or custom attribute.`;
}

/** What a contact offers to templates (the contacts domain's Contact satisfies it). */
export interface TemplateContact {
  name: string;
  email: string | null;
  phone: string | null;
  country: string | null;
  attributes: Record<string, string | number | boolean>;
}

/** The values map for one contact: first_name is the first word of the name, last_name the rest. */
export function contactValues(contact: TemplateContact): TemplateValues {
  const values: TemplateValues = {};
  for (const [key, value] of Object.entries(contact.attributes)) {
    values[`attributes.${key}`] = value;
    values[key] = value;
  }
  const words = contact.name.trim().split(/\s+/).filter(Boolean);
  values.first_name = words[0] ?? "";
  values.last_name = words.slice(1).join(" ");
  values.name = contact.name.trim();
  values.email = contact.email;
  values.phone = contact.phone;
  values.country = contact.country;
  return values;
}

// ---------------------------------------------------------------------------------------------
// Rendering

function stringOf(value: TemplateValue): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "boolean") return value ? "yes" : "no";
  return String(value);
}

function applyFilter(value: string, filter: TemplateFilter): string {
  switch (filter.name) {
    case "default":
      return value.trim() ? value : filter.value;
    case "upcase":
      return value.toUpperCase();
    case "downcase":
      return value.toLowerCase();
    case "capitalize": {
      const first = value.codePointAt(0);
      if (first === undefined) return value;
      const char = String.fromCodePoint(first);
      return char.toUpperCase() + value.slice(char.length);
    }
    case "truncate": {
      const chars = Array.from(value);
      return chars.length <= filter.length
        ? value
        : chars.slice(0, filter.length - 1).join("") + "…";
    }
    case "url_encode":
      return encodeURIComponent(value);
  }
}

export interface RenderOptions {
  /** Escape every rendered value for HTML (email HTML bodies, Telegram HTML). */
  escapeHtml?: boolean;
}

export function renderTemplate(
  parsed: ParsedTemplate,
  values: TemplateValues,
  options: RenderOptions = {},
): string {
  let out = "";
  for (const part of parsed.parts) {
    if (part.type === "text") {
      out += part.value;
      continue;
    }
    let value = stringOf(Object.hasOwn(values, part.name) ? values[part.name] : undefined);
    for (const filter of part.filters) value = applyFilter(value, filter);
    out += options.escapeHtml ? escapeHtml(value) : value;
  }
  return out;
}

/** Parses and renders in one go; throws on malformed text (for already validated content). */
export function renderText(text: string, values: TemplateValues, options: RenderOptions = {}) {
  return renderTemplate(mustParse(text), values, options);
}

/**
 * Parses text that was validated when it was saved. Results are cached (a campaign renders the
 * same few texts for every recipient); malformed text throws.
 */
export function mustParse(text: string): ParsedTemplate {
  let parsed = cache.get(text);
  if (!parsed) {
    const result = parseTemplate(text);
    if (!result.ok)
      throw new Error(`Malformed template: ${formatTemplateError(result.errors[0]!)}`);
    parsed = { parts: result.parts, variables: result.variables };
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(text, parsed);
  }
  return parsed;
}

const CACHE_SIZE = 500;
const cache = new Map<string, ParsedTemplate>();
