import { describe, expect, it } from "vitest";
import { nestBranches } from "./branches";

const chat = (id: string, parentId: string | null = null) => ({ id, parentId });

describe("nestBranches", () => {
  it("puts each branch right after the chat it came from, deeper branches deeper", () => {
    const list = [chat("b1", "a"), chat("x"), chat("a"), chat("b2", "a"), chat("c", "b1")];
    expect(nestBranches(list).map(({ chat, depth }) => `${chat.id}:${depth}`)).toEqual(["x:0", "a:0", "b1:1", "c:2", "b2:1"]);
  });

  it("keeps a branch whose parent is not in the list (deleted, or on a later page) in its place", () => {
    const list = [chat("b", "gone"), chat("a")];
    expect(nestBranches(list).map(({ chat, depth }) => `${chat.id}:${depth}`)).toEqual(["b:0", "a:0"]);
  });

  it("lists every chat exactly once even when parents form a cycle", () => {
    const list = [chat("a", "b"), chat("b", "a"), chat("self", "self")];
    const ids = nestBranches(list).map(({ chat }) => chat.id);
    expect([...ids].sort()).toEqual(["a", "b", "self"]);
  });
});
