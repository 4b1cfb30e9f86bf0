import type Database from "better-sqlite3";

/**
 * Lets SQLite refresh its query-planner statistics and folds the WAL back into the main file,
 * so long-lived tenant files do not keep a large -wal beside them.
 */
export function optimizeDatabase(client: Database.Database): { walPagesCheckpointed: number } {
  client.pragma("optimize");
  const [result] = client.pragma("wal_checkpoint(TRUNCATE)") as { log: number }[];
  return { walPagesCheckpointed: Math.max(0, result?.log ?? 0) };
}
