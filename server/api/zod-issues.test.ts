import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import superjson from "superjson";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { describeError } from "@/lib/app-error";
import { translator } from "@/lib/i18n";
import { sessionSettingsPatchSchema } from "@/lib/schemas";
import { createTRPCRouter, publicProcedure, type Context } from "./trpc";

/** A procedure taking a chat's settings, as sessions.update does, behind the app's error formatter. */
const router = createTRPCRouter({
  probe: publicProcedure.input(z.object({ settings: sessionSettingsPatchSchema })).mutation(() => "ok"),
});

async function call(input: unknown) {
  const response = await fetchRequestHandler({
    endpoint: "/api/trpc",
    router,
    req: new Request("http://localhost/api/trpc/probe", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(superjson.serialize(input)),
    }),
    createContext: (): Context => ({ db: null as never, session: null, headers: new Headers(), via: null }),
  });
  const body = (await response.json()) as { error: { json: { message: string; data: Record<string, unknown> } } };
  return body.error.json;
}

describe("input errors leave the server ready to be said in the reader's language", () => {
  it("a too-small reply length reaches a Korean reader in Korean", async () => {
    const error = await call({ settings: { maxTokens: 8 } });
    expect(error.data.zodIssues).toEqual([expect.objectContaining({ path: "settings.maxTokens", code: "too_small", origin: "number", minimum: 16 })]);
    const ko = translator("ko");
    expect(describeError(error, ko)).toBe(`${ko("settings.maxTokens")}: 16 이상이어야 해요.`);
    expect(describeError(error, translator("en"))).toBe(`${translator("en")("settings.maxTokens")}: Must be 16 or more.`);
    // Scripts still get the English sentence.
    expect(error.message).toMatch(/^settings\.maxTokens: /);
  });
});
