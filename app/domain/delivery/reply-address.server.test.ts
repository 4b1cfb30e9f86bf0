import { afterEach, describe, expect, it } from "vitest";
import { reloadEnv } from "~/lib/env.server";
import {
  addressToken,
  messageAddress,
  readAddressToken,
  readMessageAddress,
} from "./reply-address.server";

const target = { workspaceId: "ws_k3j9a8b7c6d5e4f3", messageId: "msg_0mabc12345zz9x8w" };

afterEach(() => {
  delete process.env.INBOUND_EMAIL_DOMAIN;
  reloadEnv();
});

describe("reply and unsubscribe address tokens", () => {
  it("round-trips, fits a 64-character local part, and ignores case", () => {
    const token = addressToken("reply", target)!;
    expect(token).toMatch(/^[0-9a-z-]+$/);
    expect(`unsubscribe+${token}`.length).toBeLessThanOrEqual(64);
    expect(readAddressToken("reply", token)).toEqual(target);
    expect(readAddressToken("reply", token.toUpperCase())).toEqual(target);
  });

  it("refuses a tampered token, another purpose's token and malformed ones", () => {
    const token = addressToken("reply", target)!;
    const [ws, msg, mac] = token.split("-") as [string, string, string];
    const otherMessage = `${ws}-${msg.slice(0, -1)}${msg.endsWith("a") ? "b" : "a"}-${mac}`;
    expect(readAddressToken("reply", otherMessage)).toBeNull();
    const otherMac = `${ws}-${msg}-${mac.slice(0, -1)}${mac.endsWith("a") ? "b" : "a"}`;
    expect(readAddressToken("reply", otherMac)).toBeNull();
    expect(readAddressToken("unsubscribe", token)).toBeNull();
    expect(readAddressToken("reply", "")).toBeNull();
    expect(readAddressToken("reply", `${token}-x`)).toBeNull();
  });

  it("makes no address without INBOUND_EMAIL_DOMAIN, and only on that domain with it", () => {
    expect(messageAddress("reply", target)).toBeNull();
    process.env.INBOUND_EMAIL_DOMAIN = "In.Engage.Test";
    reloadEnv();
    const address = messageAddress("reply", target)!;
    expect(address).toMatch(/^reply\+[0-9a-z-]+@in\.engage\.test$/);
    expect(readMessageAddress(address)).toEqual({ ok: true, purpose: "reply", target });
    expect(readMessageAddress(address.replace("in.engage.test", "evil.test")).ok).toBe(false);
    expect(readMessageAddress(address.replace("reply+", "unsubscribe+")).ok).toBe(false);
    expect(readMessageAddress("support@in.engage.test").ok).toBe(false);
  });
});
