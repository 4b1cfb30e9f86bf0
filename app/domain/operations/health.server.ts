import { sql } from "drizzle-orm";
import { getControlDb } from "~/db/control.server";
import { APP_VERSION } from "~/lib/app-root.server";

export interface Health {
  status: "ok" | "degraded";
  version: string;
  db: "ok" | "error";
}

export function checkHealth(): Health {
  let db: Health["db"] = "ok";
  try {
    getControlDb().get(sql`select 1`);
  } catch {
    db = "error";
  }
  return { status: db === "ok" ? "ok" : "degraded", version: APP_VERSION, db };
}
