/**
 * The limit of the webhooks bench: a bare node:http handler doing the essential work of a
 * status webhook and nothing else: read the body, check X-Hub-Signature-256 (HMAC-SHA256 of the
 * raw bytes), insert one row into SQLite (WAL, synchronous=NORMAL), answer 200.
 * `node --import tsx scripts/bench/webhook-bare-server.ts <db file> <app secret>`; prints the URL.
 */
import Database from "better-sqlite3";
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const [file = "", secret = ""] = process.argv.slice(2);
const db = new Database(file);
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL");
db.exec(
  "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, event_id TEXT UNIQUE, body TEXT)",
);
const insert = db.prepare("INSERT OR IGNORE INTO events (event_id, body) VALUES (?, ?)");
let stored = 0;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    if (req.url === "/count") {
      res.end(String(stored));
      return;
    }
    const body = Buffer.concat(chunks);
    const given = Buffer.from(String(req.headers["x-hub-signature-256"] ?? ""));
    const expected = Buffer.from(
      `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
    );
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      res.writeHead(401).end();
      return;
    }
    const payload = JSON.parse(body.toString("utf8")) as {
      entry: { changes: { value: { statuses: { id: string; status: string }[] } }[] }[];
    };
    const status = payload.entry[0]!.changes[0]!.value.statuses[0]!;
    insert.run(`${status.id}:${status.status}`, body.toString("utf8"));
    stored += 1;
    res.writeHead(200, { "content-type": "text/plain" }).end("ok");
  });
});
server.listen(0, "127.0.0.1", () => {
  console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.on("SIGTERM", () => process.exit(0));
