import { findTags } from "./personalise";

/**
 * SMS length (3GPP TS 23.038) and India DLT template matching. Pure, for the editor's counter
 * and for checks at save time.
 */

/** The GSM 7-bit default alphabet (one septet each); ESC (0x1B) is not a character. */
const GSM_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/** The extension table: ESC + the character, so two septets each. */
const GSM_EXTENDED = "\f^{}\\[~]|€";

const BASIC = new Set(GSM_BASIC);
const EXTENDED = new Set(GSM_EXTENDED);

export const GSM_SINGLE = 160;
export const GSM_MULTI = 153;
export const UCS2_SINGLE = 70;
export const UCS2_MULTI = 67;

export interface SmsSegments {
  encoding: "GSM-7" | "UCS-2";
  /** Septets for GSM-7 (extension characters count 2), UTF-16 code units for UCS-2. */
  characters: number;
  /** 0 for an empty text. */
  segments: number;
  /** What one segment holds at this length: 160 / 153 (GSM-7) or 70 / 67 (UCS-2). */
  perSegment: number;
  /** The characters that forced UCS-2, each once (empty for GSM-7). */
  unicodeCharacters: string[];
}

/**
 * How a text goes out. A multi-part message carries a 6-byte header per part; a character is
 * never split across parts (an extension character's ESC pair, a UTF-16 surrogate pair), so the
 * parts are packed one character at a time rather than by division.
 */
export function smsSegments(text: string): SmsSegments {
  const chars = Array.from(text);
  const unicode = [...new Set(chars.filter((c) => !BASIC.has(c) && !EXTENDED.has(c)))];
  const gsm = unicode.length === 0;
  const sizes = chars.map((c) => (gsm ? (EXTENDED.has(c) ? 2 : 1) : c.length));
  const characters = sizes.reduce((sum, n) => sum + n, 0);
  const single = gsm ? GSM_SINGLE : UCS2_SINGLE;
  const multi = gsm ? GSM_MULTI : UCS2_MULTI;
  let segments = 0;
  if (characters > 0 && characters <= single) segments = 1;
  else if (characters > single) {
    segments = 1;
    let used = 0;
    for (const size of sizes) {
      if (used + size > multi) {
        segments++;
        used = 0;
      }
      used += size;
    }
  }
  return {
    encoding: gsm ? "GSM-7" : "UCS-2",
    characters,
    segments,
    perSegment: segments > 1 ? multi : single,
    unicodeCharacters: unicode,
  };
}

// ---------------------------------------------------------------------------------------------
// India DLT

/** Each `{#var#}` in a registered DLT template stands for up to this many characters. */
export const DLT_VAR_MAX = 30;
const DLT_VAR = /\{#var#\}/gi;

export type DltCheck = { ok: true } | { ok: false; reason: string };

type Unit = { tag: false; char: string } | { tag: true; source: string };

function unitsOf(text: string): Unit[] {
  const units: Unit[] = [];
  let i = 0;
  for (const tag of findTags(text)) {
    if (!tag.closed) break;
    for (const char of text.slice(i, tag.start)) units.push({ tag: false, char });
    units.push({ tag: true, source: text.slice(tag.start, tag.nested ?? tag.end) });
    i = tag.nested ?? tag.end;
  }
  for (const char of text.slice(i)) units.push({ tag: false, char });
  return units;
}

const show = (units: Unit[]) =>
  units
    .map((u) => (u.tag ? u.source : u.char))
    .join("")
    .replace(/\n/g, "⏎");

function snippet(value: string, from: number, length = 30): string {
  const chars = Array.from(value.slice(from));
  const cut = chars.slice(0, length).join("").replace(/\n/g, "⏎");
  return chars.length > length ? `${cut}…` : cut;
}

interface Failure {
  /** Registered piece the attempt failed in, and how many of its characters matched. */
  piece: number;
  matched: number;
  /** Offset into the registered text (UTF-16) where it failed. */
  reg: number;
  /** Message unit where the piece was tried, and where it failed. */
  from: number;
  msg: number;
  kind: "differs" | "extra";
}

/**
 * Whether a message matches its registered DLT template: the fixed parts exactly (line ends
 * normalised), each `{#var#}` by up to 30 characters of anything. Our `{{ variables }}` may only
 * stand in `{#var#}` spots; they count 0 characters here, since their values are only known
 * per recipient. When it does not match, the reason names the fixed part that differs.
 */
export function checkDltTemplate(text: string, registered: string): DltCheck {
  const message = unitsOf(text.replace(/\r\n?/g, "\n"));
  const reg = registered.replace(/\r\n?/g, "\n");
  const pieces: { chars: string[]; start: number; end: number }[] = [];
  let from = 0;
  for (const match of reg.matchAll(DLT_VAR)) {
    pieces.push({ chars: Array.from(reg.slice(from, match.index)), start: from, end: match.index });
    from = match.index + match[0].length;
  }
  pieces.push({ chars: Array.from(reg.slice(from)), start: from, end: reg.length });

  let best: Failure | null = null;
  const note = (failure: Failure) => {
    if (!best || failure.reg > best.reg) best = failure;
  };
  const tried = new Set<number>();

  // Piece k must start at message unit i.
  const matchPiece = (k: number, i: number): boolean => {
    const key = k * (message.length + 1) + i;
    if (tried.has(key)) return false;
    tried.add(key);
    const piece = pieces[k]!;
    let offset = piece.start;
    for (let m = 0; m < piece.chars.length; m++) {
      const unit = message[i + m];
      if (!unit || unit.tag || unit.char !== piece.chars[m]) {
        note({ piece: k, matched: m, reg: offset, from: i, msg: i + m, kind: "differs" });
        return false;
      }
      offset += piece.chars[m]!.length;
    }
    const end = i + piece.chars.length;
    if (k === pieces.length - 1) {
      if (end === message.length) return true;
      note({
        piece: k,
        matched: piece.chars.length,
        reg: reg.length,
        from: i,
        msg: end,
        kind: "extra",
      });
      return false;
    }
    // A {#var#}: up to DLT_VAR_MAX characters (tags count 0), then the next piece.
    let chars = 0;
    for (let e = end; e <= message.length; e++) {
      if (matchPiece(k + 1, e)) return true;
      const unit = message[e];
      if (!unit || (!unit.tag && ++chars > DLT_VAR_MAX)) break;
    }
    return false;
  };

  if (matchPiece(0, 0)) return { ok: true };
  return { ok: false, reason: explain(best!, pieces, reg, message) };
}

function explain(
  failure: Failure,
  pieces: { chars: string[]; start: number; end: number }[],
  reg: string,
  message: Unit[],
): string {
  const rest = message.slice(failure.msg);
  const found = rest.length ? `“${snippet(show(rest), 0)}”` : "nothing (the message ends there)";
  const piece = pieces[failure.piece]!;
  const slot = failure.piece > 0 ? ordinal(failure.piece) : "";
  if (failure.kind === "extra") {
    if (piece.chars.length === 0) {
      return `The ${slot} {#var#} stands for at most ${DLT_VAR_MAX} characters; the message has “${snippet(show(message.slice(failure.from)), 0, 40)}” there.`;
    }
    return `The message goes on after the end of the registered text: ${found}.`;
  }
  const first = rest[0];
  if (first?.tag) {
    return `${first.source} is where the registered text has “${snippet(reg, failure.reg)}”; variables can only go where the registered text has {#var#}.`;
  }
  if (failure.piece > 0 && failure.matched === 0) {
    const before = show(message.slice(0, failure.from));
    return (
      `After the ${slot} {#var#}, the registered text continues with “${snippet(reg.slice(piece.start, piece.end), 0)}”, ` +
      `but the message does not have that within ${DLT_VAR_MAX} characters of “${tail(before)}”: it has “${snippet(show(message.slice(failure.from)), 0, 40)}”.`
    );
  }
  const expected = failure.reg < reg.length ? `“${snippet(reg, failure.reg)}”` : "nothing more";
  const where = failure.reg > 0 ? ` after “${tail(reg.slice(0, failure.reg))}”` : " at the start";
  return `The message differs from the registered text${where}: the registered text has ${expected}, the message has ${found}.`;
}

function tail(value: string, length = 25): string {
  const chars = Array.from(value);
  const cut = chars.slice(-length).join("").replace(/\n/g, "⏎");
  return chars.length > length ? `…${cut}` : cut;
}

function ordinal(n: number): string {
  return ["first", "second", "third", "fourth", "fifth"][n - 1] ?? `${n}th`;
}
