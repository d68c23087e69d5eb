import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startFakeSovits, type FakeSovits } from "@/e2e/fakes/sovits";
import { isolatedDatabase } from "@/e2e/support/isolated-db";
import { callersOn, type TestUser } from "@/e2e/support/test-caller";
import { createUser } from "@/e2e/support/test-db";
import { base64Json, v1Card } from "@/server/cards/test-cards";
import { makeImage } from "@/server/images/test-images";

// Global counters are shared by everyone on a database: this file has one of its own, so the
// run's other files neither use up its budgets nor get refused by them.
let isolated: Awaited<ReturnType<typeof isolatedDatabase>>;
let sovits: FakeSovits;
let callerFor: ReturnType<typeof callersOn>;
const newUser = () => createUser(isolated.db);

beforeAll(async () => {
  isolated = await isolatedDatabase();
  sovits = await startFakeSovits({ port: 0, latencyMs: 1 });
  Object.assign(process.env, {
    SOVITS_URL: sovits.url,
    SYNTHESIS_PER_MINUTE: "3",
    SYNTHESIS_GLOBAL_PER_MINUTE: "5",
    UPLOADS_PER_HOUR: "2",
    UPLOADS_GLOBAL_PER_HOUR: "4",
    SEARCHES_PER_MINUTE: "2",
    API_TOKENS_PER_HOUR: "2",
  });
  callerFor = callersOn(isolated.db);
  // Limits count in fixed windows: a clock that stands still keeps a test inside one window.
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date());
});
afterAll(async () => {
  vi.useRealTimers();
  await sovits.close();
  await isolated.drop();
});

const ttsCount = () => sovits.requests.filter((r) => r.path === "/tts").length;

/** What a refused call looks like: TOO_MANY_REQUESTS, saying which budget and when to come back. */
function refused(action: string, windowSeconds: number) {
  return {
    code: "TOO_MANY_REQUESTS",
    cause: {
      code: "limit_reached",
      params: { action, retryAfterSeconds: expect.toSatisfy((s: number) => s >= 1 && s <= windowSeconds) },
    },
  };
}

describe("voice synthesis", () => {
  it("is limited per account, cache hits included, and for the whole app", async () => {
    const [first, second] = [await newUser(), await newUser()];
    const speak = (user: TestUser, text: string) => callerFor(user).voices.synthesize({ text, voiceId: "preset-voice-calm" });
    await speak(first, "첫 번째 문장이에요.");
    await speak(first, "첫 번째 문장이에요."); // from the cache, still counted
    await callerFor(first).voices.preview({ voiceId: "preset-voice-calm" });
    const spoken = ttsCount();
    await expect(speak(first, "네 번째는 안 돼요.")).rejects.toMatchObject(refused("synthesis", 60));
    expect(ttsCount()).toBe(spoken);

    // Four calls so far across the app (the refused one counts): the second account has room for
    // one more of its own three before the app's five are gone.
    await speak(second, "다른 사람의 문장이에요.");
    await expect(speak(second, "앱 전체가 바빠요.")).rejects.toMatchObject(refused("synthesis", 60));
  });
});

describe("uploads and card imports", () => {
  it("are limited per account and for the whole app, each with its own counter", async () => {
    const [first, second] = [await newUser(), await newUser()];
    const upload = async (user: TestUser) =>
      callerFor(user).characters.uploadImage({ dataBase64: (await makeImage("png")).toString("base64") });
    const importCard = (user: TestUser) => callerFor(user).characters.importCard({ dataBase64: base64Json(v1Card()) });

    await upload(first);
    await upload(first);
    await expect(upload(first)).rejects.toMatchObject(refused("upload", 3600));
    // Card imports have a budget of their own (the same numbers).
    await importCard(first);
    await importCard(first);
    const mine = await callerFor(first).characters.gallery({ scope: "mine" });
    await expect(importCard(first)).rejects.toMatchObject(refused("card_import", 3600));
    expect((await callerFor(first).characters.gallery({ scope: "mine" })).items).toHaveLength(mine.items.length);

    // Three uploads counted across the app: one more fits in its four.
    await upload(second);
    await expect(upload(second)).rejects.toMatchObject(refused("upload", 3600));
  });
});

describe("searches", () => {
  it("count text searches of the gallery and of one's messages together; browsing does not count", async () => {
    const user = await newUser();
    for (let i = 0; i < 3; i++) await callerFor(user).characters.gallery({ scope: "all", category: "일상" });
    await callerFor(user).characters.gallery({ q: "아리아" });
    await callerFor(user).sessions.search({ q: "안녕" });
    await expect(callerFor(user).characters.gallery({ q: "아리아" })).rejects.toMatchObject(refused("search", 60));
    await expect(callerFor(user).sessions.search({ q: "안녕" })).rejects.toMatchObject(refused("search", 60));
    await callerFor(user).characters.gallery({ scope: "all" });
  });

  it("by visitors share one budget, ten accounts' worth", async () => {
    for (let i = 0; i < 20; i++) await callerFor(null).characters.gallery({ q: `아리아 ${i}` });
    await expect(callerFor(null).characters.gallery({ q: "아리아" })).rejects.toMatchObject(refused("search", 60));
    // An account has its own budget still.
    await callerFor(await newUser()).characters.gallery({ q: "아리아" });
  });
});

describe("API tokens", () => {
  it("are limited in how many an account makes per hour, whatever it revokes", async () => {
    const user = await newUser();
    const first = await callerFor(user).apiTokens.create({ name: "하나" });
    await callerFor(user).apiTokens.revoke({ id: first.id });
    await callerFor(user).apiTokens.create({ name: "둘" });
    await expect(callerFor(user).apiTokens.create({ name: "셋" })).rejects.toMatchObject(refused("api_token", 3600));
    expect((await callerFor(user).apiTokens.list()).map((token) => token.name)).toEqual(["둘"]);
  });
});
