import Database from "better-sqlite3";
import { configureConnection, migrateDatabase } from "./migrate.server";

/**
 * A worker thread's own raw connection to the control database, at the path the main thread
 * resolved (controlDbPath). Same settings as the main connection; the file must exist (the
 * main thread created and migrated it at boot). Used by import threads to keep the privacy
 * subject index in step with what they write; no drizzle, so the thread loads little.
 */
export function openControlClientForWorker(path: string): Database.Database {
  const client = new Database(path, { fileMustExist: true });
  try {
    configureConnection(client);
    // Normally a no-op: one pragma read.
    migrateDatabase(client, "control");
  } catch (error) {
    client.close();
    throw error;
  }
  return client;
}
