import dns from "node:dns";

/**
 * Preloaded into a test server process (`node --import ./tests/support/fake-dns.ts`): the names
 * in FAKE_DNS ("evil.example=169.254.169.254;mail.example=93.184.216.34") resolve to the given
 * addresses through `dns.promises.lookup`, the call the outbound-address guard makes; every
 * other name goes to the system resolver. Stands in for a DNS server the sandbox has not got,
 * so a route test can use a name that resolves to a private address.
 */

const table = new Map<string, string[]>();
for (const entry of (process.env.FAKE_DNS ?? "").split(";")) {
  const [name, addresses] = entry.split("=");
  if (name && addresses)
    table.set(
      name.trim().toLowerCase(),
      addresses.split(",").map((a) => a.trim()),
    );
}

const systemLookup = dns.promises.lookup.bind(dns.promises);

dns.promises.lookup = (async (hostname: string, options?: dns.LookupOptions) => {
  const known = table.get(hostname.toLowerCase());
  if (!known) return systemLookup(hostname, options ?? {});
  const answers = known.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  return options?.all ? answers : answers[0];
}) as typeof dns.promises.lookup;
