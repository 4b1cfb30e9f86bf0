// A fake running in its own process (see serve.ts), for benchmarks: the fake gets a core of its
// own instead of competing with the code under test for one event loop.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";

export interface RemoteFake {
  url: string;
  /** Calls a method of the fake in the other process and returns its JSON result. */
  call<T = unknown>(method: string, ...args: unknown[]): Promise<T>;
  stop(): Promise<void>;
}

export async function startRemoteFake(
  name: string,
  options: Record<string, unknown> = {},
): Promise<RemoteFake> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      new URL("./serve.ts", import.meta.url).pathname,
      name,
      JSON.stringify(options),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  // Never outlive the process that started it (a failing benchmark included).
  const killChild = () => child.kill("SIGTERM");
  process.once("exit", killChild);
  const lines = createInterface({ input: child.stdout! });
  const [first] = (await Promise.race([
    once(lines, "line"),
    once(child, "exit").then(() => {
      throw new Error(`fake ${name} exited before it started`);
    }),
  ])) as [string];
  const { url, controlUrl } = JSON.parse(first) as { url: string; controlUrl: string };
  return {
    url,
    async call<T>(method: string, ...args: unknown[]): Promise<T> {
      const response = await fetch(controlUrl, {
        method: "POST",
        body: JSON.stringify({ method, args }),
      });
      if (!response.ok) throw new Error(`fake ${name}.${method}: ${await response.text()}`);
      return (await response.json()) as T;
    },
    async stop() {
      process.off("exit", killChild);
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await once(child, "exit");
    },
  };
}
