import type { MessagePort } from "node:worker_threads";
import type { AttributeDefinition } from "../attributes.server";
import type { CsvFormat, ImportField } from "./csv-format.server";
import type { ImportOptions, RowBatch } from "./record-batches.server";
import type { ImportCounts } from "./record-writer.server";

/**
 * The two threads of an import, started by supervisor.server.ts (through
 * app/workers/contact-import.worker.ts): what they are given and what they say to each other.
 * The parsing thread (parse-thread) streams the file through csv-parse and normalises
 * every row (libphonenumber is the costly part); the writing thread (write-thread) owns
 * the database connection and writes. Rows travel between them in batches over a MessageChannel,
 * with at most a few batches in flight, so memory stays flat and the slower side sets the pace.
 * On two cores this keeps both busy while the web server's own thread still gets its turn
 * (both import threads lower their scheduling priority first thing, where the OS allows it).
 */

export interface ImportTuning {
  /** Rows (kept or rejected) per batch sent from the parser to the writer. */
  batchRows: number;
  /** Batches the parser may send before the writer has taken them. */
  inflight: number;
  /** A transaction is committed after this many rows... */
  txnRows: number;
  /** ...or this many milliseconds, whichever comes first. */
  txnMs: number;
  /** Pause after each commit, so other writers of the same workspace get the lock. */
  gapMs: number;
  /** SQLite page cache of the writer's connection, KiB. */
  cacheKib: number;
  /** Scheduling niceness of the writing thread (Linux; set by the worker entry); 0 leaves it. */
  nice: number;
  /** ...and of the parsing thread: nicer, since the writer sets the pace (see DEFAULT_TUNING). */
  parserNice: number;
  /** V8 old-generation limit of each import thread, MiB: keeps the process's memory flat. */
  heapMb: number;
}

export const DEFAULT_TUNING: ImportTuning = {
  // Small batches keep each message small and the two threads in step: over a million rows,
  // 250-row batches measured ~6% faster and ~20 MB lighter than 2,000-row ones.
  batchRows: 250,
  inflight: 64,
  // Commits come from txnMs (the write lock is never held much longer than a second); a
  // commit rewrites every index page the transaction touched, so fewer of them are faster:
  // 100,000-row transactions measured ~5% faster than 50,000-row ones over a million rows.
  txnRows: 100_000,
  txnMs: 1000,
  gapMs: 10,
  // The writer's page cache holds the hot index pages. Over a million rows 32 MiB measured
  // within noise of 64 MiB (and 256 MiB), 16 MiB ~10% slower; it counts in the process's RSS.
  cacheKib: 32 * 1024,
  nice: 10,
  // The parser needs ~60% of the writer's CPU time. When the two cores are short (pages being
  // served, garbage collection), the writer going first measured ~5% faster over a million rows.
  parserNice: 15,
  heapMb: 96,
};

export interface ImportWorkerData {
  role: "parse" | "write";
  workspaceId: string;
  /** The workspace's file (tenantDbPath, resolved by the main thread). */
  dbPath: string;
  importId: string;
  /** Absolute path of the uploaded file. */
  filePath: string;
  fileBytes: number;
  format: CsvFormat;
  mapping: ImportField[];
  options: ImportOptions;
  definitions: AttributeDefinition[];
  defaultCountry: string;
  /** This workspace's suppression key, base64. */
  suppressionKey: string;
  /** The control database's file (controlDbPath): the writer keeps the privacy index. */
  controlDbPath: string;
  /** The privacy subject index's key, base64. */
  subjectIndexKey: string;
  /** The parser checks suppressions up to this rowid, the writer any added later. */
  suppressionsUpTo: number;
  /** Data rows already committed by an earlier run of this import (resume). */
  skipRows: number;
  actorType: string;
  tuning: ImportTuning;
  /** Parser ↔ writer channel end. */
  port: MessagePort;
}

/** Parser → writer. */
export type ParserMessage = RowBatch | { type: "end" } | { type: "fail"; message: string };

/** Writer → parser. */
export type WriterToParser = { type: "ack"; seq: number } | { type: "stop" };

/** Writer → main thread. */
export type WriterReport =
  | { type: "progress"; counts: ImportCounts }
  | {
      type: "done";
      status: "completed" | "cancelled" | "failed";
      counts: ImportCounts;
      error: string | null;
    };

/** Main thread → writer. */
export type MainToWriter = { type: "cancel" } | { type: "abort"; message: string };
