/**
 * Worker thread for CSV contact imports, started twice per import by
 * app/domain/contacts/import/supervisor.server.ts (through app/lib/worker.server.ts): once to parse
 * and normalise the file (parse-thread), once to write to the workspace's database
 * (write-thread). The two talk over a MessageChannel whose end arrives as this thread's
 * first message; the writer reports progress and the outcome to the main thread. Each role
 * loads only its own modules.
 */
import { once } from "node:events";
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import type { ImportWorkerData } from "~/domain/contacts/import/threads.server";

const data = workerData as Omit<ImportWorkerData, "port">;

// First of all, before loading the import code: the web server's own thread must win the CPU
// whenever both want it, so pages stay fast while an import runs; and the writer, which sets the
// import's pace, goes before the parser. setpriority on a thread id changes that thread only
// (Linux; elsewhere the import runs at normal priority).
const nice = data.role === "parse" ? data.tuning?.parserNice : data.tuning?.nice;
if (nice) {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, nice);
  } catch {
    // Not Linux, or not allowed.
  }
}

const parent = parentPort!;
const [first] = (await once(parent, "message")) as [{ port: MessagePort }];
const full: ImportWorkerData = { ...data, port: first.port };
if (full.role === "parse") {
  const { runImportParser } = await import("~/domain/contacts/import/parse-thread.server");
  await runImportParser(full);
} else {
  const { runImportWriter } = await import("~/domain/contacts/import/write-thread.server");
  await runImportWriter(full, parent);
}
