/**
 * webhooks: 100,000 signed WhatsApp status webhooks ("delivered") posted to a real server
 * process at /webhooks/whatsapp/<integrationId>, 64 at a time over keep-alive connections: the
 * whole path (Express, integration lookup, signature check, parse, durable insert before the
 * 200), then the asynchronous apply that moves each message to delivered. The limit is a bare
 * node:http handler that checks the HMAC and inserts the event into SQLite, in the same run
 * with the same load. `lost` counts webhooks that got a 200 but are not stored and applied.
 *
 *   npm run bench -- webhooks           (BENCH_WEBHOOKS=20000 for a quicker run)
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Pool } from "undici";
import { signWebhook, statusPayload } from "../../tests/fakes/whatsapp";
import { processPeakRssMb, report } from "./report";

const WEBHOOKS = Number(process.env.BENCH_WEBHOOKS ?? 100_000);
const CONCURRENCY = 64;
const root = mkdtempSync(join(tmpdir(), "engage-bench-webhooks-"));
const dataDir = join(root, "data");
process.env.DATA_DIR = dataDir;
process.env.LOG_LEVEL = "warn";
process.env.LOG_DESTINATION = "stderr";

const { startTestServer } = await import("../../tests/support/server");
const { createVerifiedUser, createWorkspaceFor } = await import("../../tests/support/accounts");
const { openWorkspaceContext } = await import("~/domain/workspaces/access.server");
const { saveIntegration } = await import("~/domain/delivery/integrations.server");
const { closeAllTenantDbs } = await import("~/db/tenants.server");

const APP_SECRET = "bench-app-secret";
const PHONE_NUMBER_ID = "106540352242922";
const owner = await createVerifiedUser({ name: "Bench Owner" });
const workspace = createWorkspaceFor(owner, { country: "IN" });
const ctx = openWorkspaceContext(workspace.id, { type: "user", id: owner.id }, {});
const integrationId = saveIntegration(ctx, workspace.id, "whatsapp", {
  phoneNumberId: PHONE_NUMBER_ID,
  wabaId: "102290129340398",
  accessToken: "bench-token",
  appSecret: APP_SECRET,
  verifyToken: "bench-verify",
}).id;

// Messages already sent, waiting for their receipts.
const wamid = (i: number) => `wamid.bench${String(i).padStart(8, "0")}`;
const client = ctx.db.$client;
client.transaction(() => {
  const now = Date.now();
  const insert = client.prepare(
    `INSERT INTO messages (id, channel, integration_id, kind, recipient, status, attempts,
       next_attempt_at, provider_message_id, created_at, updated_at, sent_at)
     VALUES (?, 'whatsapp', ?, 'marketing', ?, 'sent', 1, ?, ?, ?, ?, ?)`,
  );
  for (let i = 0; i < WEBHOOKS; i++) {
    insert.run(`msg_b${i}`, integrationId, `+9170${i}`, now, wamid(i), now, now, now);
  }
})();
closeAllTenantDbs();

const bodies = Array.from({ length: WEBHOOKS }, (_, i) =>
  signWebhook(
    APP_SECRET,
    statusPayload({
      phoneNumberId: PHONE_NUMBER_ID,
      wamid: wamid(i),
      status: "delivered",
      recipient: `9170${i}`,
    }),
  ),
);

/** Posts every body, CONCURRENCY at a time, over keep-alive; returns timings. */
async function load(origin: string, path: string) {
  const pool = new Pool(origin, { connections: CONCURRENCY, pipelining: 1 });
  const latencies = new Float64Array(WEBHOOKS);
  let next = 0;
  let failed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < WEBHOOKS) {
        const i = next++;
        const t = performance.now();
        const response = await pool.request({
          method: "POST",
          path,
          headers: bodies[i]!.headers,
          body: bodies[i]!.body,
        });
        await response.body.text();
        if (response.statusCode !== 200) failed += 1;
        latencies[i] = performance.now() - t;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  latencies.sort();
  return {
    perS: Math.round(WEBHOOKS / seconds),
    seconds,
    p99: Number(latencies[Math.floor(WEBHOOKS * 0.99)]!.toFixed(1)),
    failed,
  };
}

// Limit: the bare handler, in its own process like the server.
const bare = spawn(
  process.execPath,
  [
    "--import",
    "tsx",
    join(import.meta.dirname, "webhook-bare-server.ts"),
    join(root, "bare.db"),
    APP_SECRET,
  ],
  { stdio: ["ignore", "pipe", "inherit"] },
);
const [bareUrl] = (await once(createInterface({ input: bare.stdout! }), "line")) as [string];
const limit = await load(bareUrl, "/hook");
bare.kill("SIGTERM");

// BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server.
const server = await startTestServer({
  dataDir,
  nodeArgs: process.env.BENCH_SERVER_NODE_ARGS?.split(" ").filter(Boolean),
});
const ours = await load(server.url, `/webhooks/whatsapp/${integrationId}`);

// Stored before the 200; applied shortly after. Wait for the apply, then count.
const { getTenantDb } = await import("~/db/tenants.server");
const db = getTenantDb(workspace.id).$client;
const applyStarted = performance.now();
let applied = 0;
for (let waited = 0; waited < 120_000; waited += 100) {
  applied = (
    db.prepare("SELECT count(*) AS n FROM messages WHERE status = 'delivered'").get() as {
      n: number;
    }
  ).n;
  if (applied >= WEBHOOKS) break;
  await new Promise((resolve) => setTimeout(resolve, 100));
}
const stored = (db.prepare("SELECT count(*) AS n FROM webhook_events").get() as { n: number }).n;
const rss = processPeakRssMb(server.child.pid!);
await server.stop();

report({
  bench: "webhooks",
  webhooks: WEBHOOKS,
  seconds: Number(ours.seconds.toFixed(2)),
  per_s: ours.perS,
  limit_per_s: limit.perS,
  p99_ms: ours.p99,
  limit_p99_ms: limit.p99,
  non_200: ours.failed,
  stored,
  applied,
  applied_after_s: Number(((performance.now() - applyStarted) / 1000).toFixed(2)),
  lost: WEBHOOKS - Math.min(stored, applied),
  server_peak_rss_mb: rss,
});
closeAllTenantDbs();
rmSync(root, { recursive: true, force: true });
process.exit(0);
