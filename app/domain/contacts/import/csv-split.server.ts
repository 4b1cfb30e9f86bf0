/**
 * The import's fast CSV reader: text to records exactly as csv-parse reads it with
 * csvParseOptions (csv-format.server.ts), for the files people actually upload, at several times
 * csv-parse's speed. It works on decoded text: a line without a double quote is split on the
 * delimiter in one native call; lines with quotes go through a small state machine.
 *
 * The settings it reproduces: one-character delimiter; `"` as quote and escape (`""` inside
 * quotes is one `"`); a quote that is not the first character of a field is text
 * (relax_quotes); the record delimiter is the first \r\n, \n or \r met outside quotes, and from
 * then on only that sequence ends a record (the others are text); blank lines are records of one
 * empty field; a last line without characters is no record; any number of fields per record.
 *
 * Whatever it does not reproduce, it hands back (`null`): a closing quote followed by something
 * other than the delimiter, a record end or the end of the file (csv-parse's relax_quotes
 * rewriting), a quote never closed (an error whose line number csv-parse must give), and
 * records longer than FALLBACK_RECORD_CHARS (csv-parse's max_record_size decides those). The
 * caller then reads the file with csv-parse, skipping the records already taken, so its records
 * and errors are csv-parse's own. csv-split.server.test.ts compares the two on many generated
 * texts cut into random chunks.
 */

/** Records this long (UTF-16 units, so up to 3x the bytes) go to csv-parse for its size limit. */
export const FALLBACK_RECORD_CHARS = 300_000;

const QUOTE = 34;
const CR = 13;
const LF = 10;

/** parseRecord's answers besides a record (recordDelimiterAt's "need more" too). */
const NEED_MORE = -1;
const FALLBACK = -2;

export class CsvSplitter {
  private readonly delimiter: string;
  private readonly delimiterCode: number;
  /** The record delimiter, once found as csv-parse finds it. */
  private rd: string | null = null;
  /** Text of an incomplete last record, read again with the next chunk. */
  private carry = "";
  /** Set by parseRecord on success: where the next record starts. */
  private next = 0;

  constructor(delimiter: string) {
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === "\r" || delimiter === "\n") {
      throw new Error(`unsupported CSV delimiter ${JSON.stringify(delimiter)}`);
    }
    this.delimiter = delimiter;
    this.delimiterCode = delimiter.charCodeAt(0);
  }

  /**
   * The complete records of `chunk` (after what earlier chunks left incomplete); with `final`,
   * the rest too. null: this text needs csv-parse (see above); the splitter is then unusable.
   */
  push(chunk: string, final: boolean): string[][] | null {
    const text = this.carry.length ? this.carry + chunk : chunk;
    this.carry = "";
    const out: string[][] = [];
    const n = text.length;
    const delimiter = this.delimiter;
    let pos = 0;
    let quoteAt = text.indexOf('"');
    while (pos < n) {
      const rd = this.rd;
      if (rd !== null) {
        // The common case: the next record end comes before the next quote.
        if (quoteAt !== -1 && quoteAt < pos) quoteAt = text.indexOf('"', pos);
        const end = text.indexOf(rd, pos);
        if (end !== -1 && (quoteAt === -1 || quoteAt > end)) {
          if (end - pos > FALLBACK_RECORD_CHARS) return null;
          out.push(text.slice(pos, end).split(delimiter));
          pos = end + rd.length;
          continue;
        }
        if (end === -1 && quoteAt === -1) {
          if (!final) break;
          if (n - pos > FALLBACK_RECORD_CHARS) return null;
          out.push(text.slice(pos).split(delimiter));
          pos = n;
          break;
        }
      }
      const record = this.parseRecord(text, pos, final);
      if (record === NEED_MORE) break;
      if (record === FALLBACK) return null;
      out.push(record);
      pos = this.next;
    }
    if (pos < n) {
      if (final || n - pos > FALLBACK_RECORD_CHARS) return null;
      this.carry = text.slice(pos);
    }
    return out;
  }

  /**
   * One record from `start` (which is before the end of the text), character by character.
   * NEED_MORE: the record (or a character needed to read it) is not all in the text yet.
   */
  private parseRecord(
    text: string,
    start: number,
    final: boolean,
  ): string[] | typeof NEED_MORE | typeof FALLBACK {
    const n = text.length;
    const delimiterCode = this.delimiterCode;
    const fields: string[] = [];
    let i = start;
    for (;;) {
      if (i - start > FALLBACK_RECORD_CHARS) return FALLBACK;
      if (i < n && text.charCodeAt(i) === QUOTE) {
        // A quoted field: up to the quote that is followed by a delimiter or a record end.
        let value = "";
        let from = i + 1;
        let at = from;
        for (;;) {
          const q = text.indexOf('"', at);
          if (q === -1) return final ? FALLBACK : NEED_MORE;
          if (q - start > FALLBACK_RECORD_CHARS) return FALLBACK;
          if (q + 1 >= n) {
            if (!final) return NEED_MORE;
            // The closing quote ends the file.
            fields.push(value + text.slice(from, q));
            this.next = n;
            return fields;
          }
          const c = text.charCodeAt(q + 1);
          if (c === QUOTE) {
            // "" is one quote.
            value += text.slice(from, q + 1);
            from = at = q + 2;
            continue;
          }
          if (c === delimiterCode) {
            fields.push(value + text.slice(from, q));
            i = q + 2;
            break;
          }
          if (c === CR || c === LF) {
            const rd = this.recordDelimiterAt(text, q + 1, final);
            if (rd === NEED_MORE) return NEED_MORE;
            if (rd !== 0) {
              fields.push(value + text.slice(from, q));
              this.next = q + 1 + rd;
              return fields;
            }
          }
          // Text after a closing quote: csv-parse's relax_quotes rewriting, not done here.
          return FALLBACK;
        }
        // After a delimiter: the next field starts (possibly at the end of the text).
        if (i >= n) {
          if (!final) return NEED_MORE;
          fields.push("");
          this.next = n;
          return fields;
        }
        continue;
      }
      // An unquoted field: up to the delimiter or the record end; quotes in it are text.
      const from = i;
      for (; i < n; i++) {
        const c = text.charCodeAt(i);
        if (c === delimiterCode) break;
        if (c === CR || c === LF) {
          const rd = this.recordDelimiterAt(text, i, final);
          if (rd === NEED_MORE) return NEED_MORE;
          if (rd !== 0) {
            fields.push(text.slice(from, i));
            this.next = i + rd;
            return fields;
          }
        }
      }
      if (i - start > FALLBACK_RECORD_CHARS) return FALLBACK;
      if (i >= n) {
        if (!final) return NEED_MORE;
        fields.push(text.slice(from, n));
        this.next = n;
        return fields;
      }
      fields.push(text.slice(from, i));
      i++;
      if (i >= n) {
        if (!final) return NEED_MORE;
        fields.push("");
        this.next = n;
        return fields;
      }
    }
  }

  /**
   * Length of the record delimiter at `at` (a \r or \n), 0 if that character is text. Before the
   * first one is found, the first \r\n, \n or \r is it, as csv-parse decides.
   */
  private recordDelimiterAt(text: string, at: number, final: boolean): number | typeof NEED_MORE {
    const c = text.charCodeAt(at);
    if (this.rd === null) {
      if (c === LF) this.rd = "\n";
      else {
        if (at + 1 >= text.length && !final) return NEED_MORE;
        this.rd = text.charCodeAt(at + 1) === LF ? "\r\n" : "\r";
      }
      return this.rd.length;
    }
    if (this.rd === "\r\n") {
      if (c !== CR) return 0;
      if (at + 1 >= text.length) return final ? 0 : NEED_MORE;
      return text.charCodeAt(at + 1) === LF ? 2 : 0;
    }
    return c === this.rd.charCodeAt(0) ? 1 : 0;
  }
}
