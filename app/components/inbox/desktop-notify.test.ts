import { describe, expect, it } from "vitest";
import { notificationFor } from "./desktop-notify";

describe("desktop notifications", () => {
  it("notify of a customer's message, and of a mention or assignment for this member only", () => {
    expect(
      notificationFor({ type: "message", conversationId: 4, direction: "in", at: 1 }, "u1"),
    ).toMatchObject({ title: "New customer message", conversationId: 4 });
    expect(
      notificationFor({ type: "message", conversationId: 4, direction: "out", at: 1 }, "u1"),
    ).toBeNull();
    expect(
      notificationFor({ type: "notification", userId: "u1", conversationId: 5, at: 1 }, "u1"),
    ).toMatchObject({ conversationId: 5 });
    expect(
      notificationFor({ type: "notification", userId: "u2", conversationId: 5, at: 1 }, "u1"),
    ).toBeNull();
    expect(notificationFor({ type: "note", conversationId: 5, at: 1 }, "u1")).toBeNull();
  });
});
