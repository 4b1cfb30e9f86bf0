import { connect, createServer } from "node:net";
import { describe, expect, it } from "vitest";
import {
  OutboundAddressError,
  pinnedLookup,
  refusedRange,
  resolveOutboundHost,
  resolveOutboundUrl,
  type OutboundLookup,
} from "./outbound-address.server";

/** A resolver that answers every name with `addresses`, counting its calls. */
function resolver(...addresses: string[]): OutboundLookup & { calls: string[] } {
  const calls: string[] = [];
  const lookup = async (hostname: string) => {
    calls.push(hostname);
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return Object.assign(lookup, { calls });
}

async function refusal(promise: Promise<unknown>): Promise<OutboundAddressError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(OutboundAddressError);
    return error as OutboundAddressError;
  }
  throw new Error("the guard let it through");
}

const NONE = { allowedPrivateHosts: [] };

describe("refusedRange", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.8.9.10", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.254", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "linkLocal"],
    ["100.64.0.1", "carrierGradeNat"],
    ["0.0.0.0", "unspecified"],
    ["255.255.255.255", "broadcast"],
    ["224.0.0.1", "multicast"],
    ["240.0.0.1", "reserved"],
    ["192.0.2.1", "reserved"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["fc00::1", "uniqueLocal"],
    ["fd12:3456::1", "uniqueLocal"],
    ["fe80::1", "linkLocal"],
    ["ff02::1", "multicast"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:169.254.169.254", "linkLocal"],
    ["::ffff:10.0.0.1", "private"],
  ])("refuses %s (%s)", (ip, range) => {
    expect(refusedRange(ip)).toBe(range);
  });

  it.each([
    ["::127.0.0.1", /loopback/],
    ["::a00:1", /private/],
    ["::ffff:0:127.0.0.1", /rfc6145/],
    ["64:ff9b::7f00:1", /NAT64 of loopback/],
    ["64:ff9b::a9fe:a9fe", /NAT64 of linkLocal/],
    ["64:ff9b:1::a00:1", /local-use NAT64/],
    ["2002:7f00:1::1", /6to4 of loopback/],
    ["2002:a00:1::1", /6to4 of private/],
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", /teredo/],
  ])("refuses the IPv6 form %s", (ip, pattern) => {
    expect(refusedRange(ip)).toMatch(pattern);
  });

  it.each([
    "93.184.216.34",
    "8.8.8.8",
    "2606:4700::6810:84e5",
    "64:ff9b::5db8:d822",
    "2002:5db8:d822::1",
  ])("allows the public address %s", (ip) => {
    expect(refusedRange(ip)).toBeNull();
  });
});

describe("resolveOutboundHost", () => {
  it("refuses localhost as the system resolves it", async () => {
    const error = await refusal(resolveOutboundHost("localhost", NONE));
    expect(error.refusal).toBe("private");
    expect(error.message).toMatch(
      /^localhost resolves to a private or reserved address \(loopback\)/,
    );
  });

  it.each(["169.254.169.254", "10.0.0.1", "::ffff:127.0.0.1", "fe80::1"])(
    "refuses a name that resolves to %s",
    async (address) => {
      const lookup = resolver(address);
      const error = await refusal(resolveOutboundHost("evil.example", { ...NONE, lookup }));
      expect(error.refusal).toBe("private");
      expect(error.message).toContain("evil.example resolves to a private or reserved address");
      expect(lookup.calls).toEqual(["evil.example"]);
    },
  );

  it("refuses when any one of the addresses is private", async () => {
    const lookup = resolver("93.184.216.34", "10.0.0.1");
    expect((await refusal(resolveOutboundHost("evil.example", { ...NONE, lookup }))).refusal).toBe(
      "private",
    );
  });

  it("refuses literal addresses, bracketed IPv6 included, without any lookup", async () => {
    const lookup = resolver("93.184.216.34");
    for (const host of ["127.0.0.1", "[::1]", "169.254.169.254", "[::ffff:a9fe:a9fe]"]) {
      expect((await refusal(resolveOutboundHost(host, { ...NONE, lookup }))).refusal).toBe(
        "private",
      );
    }
    expect(lookup.calls).toEqual([]);
  });

  it("says so when a name does not resolve", async () => {
    const lookup: OutboundLookup = async () => {
      throw Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" });
    };
    const error = await refusal(resolveOutboundHost("nowhere.example", { ...NONE, lookup }));
    expect(error.refusal).toBe("unresolvable");
    expect(error.message).toBe(
      "could not find the address of nowhere.example (check the host name)",
    );
  });

  it("refuses what is not a host name", async () => {
    expect((await refusal(resolveOutboundHost("a b", NONE))).refusal).toBe("invalid");
    expect((await refusal(resolveOutboundHost("", NONE))).refusal).toBe("invalid");
  });

  it("returns the checked address to pin, and keeps the name for TLS", async () => {
    const lookup = resolver("93.184.216.34", "2606:4700::6810:84e5");
    expect(await resolveOutboundHost("Mail.Example.COM.", { ...NONE, lookup })).toEqual({
      host: "mail.example.com",
      address: "93.184.216.34",
      family: 4,
      isLiteral: false,
    });
  });

  it("applies a port rule to public hosts", async () => {
    const lookup = resolver("93.184.216.34");
    const allowed = [25, 465, 587, 2525];
    const error = await refusal(
      resolveOutboundHost("mail.example", { ...NONE, lookup, port: { port: 22, allowed } }),
    );
    expect(error).toMatchObject({
      refusal: "port",
      message: "port 22 is not allowed (use 25, 465, 587, 2525)",
    });
    await expect(
      resolveOutboundHost("mail.example", { ...NONE, lookup, port: { port: 465, allowed } }),
    ).resolves.toMatchObject({ address: "93.184.216.34" });
  });

  describe("the operator's allowed private hosts", () => {
    it("a named host may resolve to private addresses and use any port", async () => {
      const lookup = resolver("10.0.0.5");
      const target = await resolveOutboundHost("Relay.Internal", {
        lookup,
        allowedPrivateHosts: ["relay.internal"],
        port: { port: 2526, allowed: [587] },
      });
      expect(target).toMatchObject({ host: "relay.internal", address: "10.0.0.5" });
    });

    it("an address allows exactly that address, by whatever name", async () => {
      const options = { allowedPrivateHosts: ["10.0.0.5"] };
      await expect(resolveOutboundHost("10.0.0.5", options)).resolves.toMatchObject({
        address: "10.0.0.5",
        isLiteral: true,
      });
      await expect(
        resolveOutboundHost("relay.internal", { ...options, lookup: resolver("10.0.0.5") }),
      ).resolves.toMatchObject({ address: "10.0.0.5" });
      expect(
        (
          await refusal(
            resolveOutboundHost("other.internal", { ...options, lookup: resolver("10.0.0.6") }),
          )
        ).refusal,
      ).toBe("private");
    });

    it("reads OUTBOUND_ALLOWED_PRIVATE_HOSTS by default (empty here)", async () => {
      expect((await refusal(resolveOutboundHost("10.0.0.5"))).refusal).toBe("private");
    });
  });
});

describe("resolveOutboundUrl", () => {
  it("checks the URL's host and returns the parsed URL with the address", async () => {
    const lookup = resolver("93.184.216.34");
    const target = await resolveOutboundUrl("https://hooks.example/in?x=1", { ...NONE, lookup });
    expect(target).toMatchObject({ host: "hooks.example", address: "93.184.216.34" });
    expect(target.url.pathname).toBe("/in");
  });

  it.each([
    ["http://hooks.example/in", "invalid"],
    ["https://user:pw@hooks.example/in", "invalid"],
    ["not a url", "invalid"],
    ["https://hooks.example:8443/in", "port"],
    ["https://169.254.169.254/latest/meta-data/", "private"],
    ["https://[::ffff:7f00:1]/", "private"],
  ])("refuses %s (%s)", async (url, kind) => {
    const lookup = resolver("93.184.216.34");
    expect((await refusal(resolveOutboundUrl(url, { ...NONE, lookup }))).refusal).toBe(kind);
  });

  it("refuses a webhook host whose name resolves to the metadata address", async () => {
    const lookup = resolver("169.254.169.254");
    expect(
      (await refusal(resolveOutboundUrl("https://evil.example/hook", { ...NONE, lookup }))).refusal,
    ).toBe("private");
  });
});

describe("pinnedLookup", () => {
  it("makes a connection by name go to the pinned address", async () => {
    const server = createServer((socket) => socket.end("pinned"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      const said = await new Promise<string>((resolve, reject) => {
        const socket = connect({
          host: "does-not-exist.invalid",
          port,
          lookup: pinnedLookup({ address: "127.0.0.1", family: 4 }),
        });
        let text = "";
        socket.on("data", (chunk: Buffer) => (text += chunk.toString()));
        socket.on("end", () => resolve(text));
        socket.on("error", reject);
      });
      expect(said).toBe("pinned");
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
