/**
 * CSV writing shared by every export (audit log, contacts, rejected import rows): RFC 4180
 * quoting plus the guard against spreadsheet formula injection.
 */

export type CsvValue = string | number | boolean | null | undefined;

/** A cell that starts with one of these is run as a formula by spreadsheets. */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV cell. Spreadsheets run a cell that starts with = + - @ (or a tab or carriage return
 * in front of one) as a formula, so such a cell gets a leading single quote and is shown as
 * text. Cells with a quote, comma or line break are quoted with inner quotes doubled
 * (RFC 4180).
 */
export function csvCell(value: CsvValue): string {
  let text = value === null || value === undefined ? "" : String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Undoes csvCell's formula guard on a cell read back from a file: the leading single quote goes
 * only when what follows is one that csvCell would have added it to, so "'twas" stays as it is.
 */
export function stripFormulaGuard(text: string): string {
  return text.charCodeAt(0) === 39 && FORMULA_START.test(text.slice(1, 2)) ? text.slice(1) : text;
}

/** One CSV record with its CRLF line ending. */
export function csvLine(cells: readonly CsvValue[]): string {
  return `${cells.map(csvCell).join(",")}\r\n`;
}
