// `npm run fakes`: serve every registered fake on fixed ports for manual/dev use.
import { fakeFactories, startFakes, stopFakes } from "./registry";

const rawPort = process.env.FAKES_BASE_PORT ?? "4100";
const basePort = Number(rawPort);
if (!Number.isInteger(basePort) || basePort < 1 || basePort > 65535) {
  console.error(`FAKES_BASE_PORT must be a port number, got "${rawPort}"`);
  process.exit(1);
}

if (Object.keys(fakeFactories).length === 0) {
  console.log("no fakes registered yet");
  process.exit(0);
}

const started = await startFakes(undefined, basePort);
for (const s of started) console.log(`${s.name} ${s.url}`);
console.log("\n# point the app at the fakes:");
for (const s of started) console.log(`export ${s.envVar}=${s.url}`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping fakes`);
  await stopFakes(started);
  process.exit(0);
}
process.once("SIGINT", () => void shutdown("SIGINT"));
process.once("SIGTERM", () => void shutdown("SIGTERM"));
