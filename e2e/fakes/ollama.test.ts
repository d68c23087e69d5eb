// Proves the fake is compatible with the official `ollama` client the app uses, and that it is as
// unkind as the real server (/work/shared/protocols/ollama.md). Checks order and counts, never
// durations: the machine is shared.
import { Ollama, type ChatResponse, type Message } from "ollama";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fakeReply, fakeThinking, startFakeOllama, tokenize, type FakeOllama } from "./ollama";

let fake: FakeOllama;
let client: Ollama;

beforeAll(async () => {
  fake = await startFakeOllama({ tokenDelayMs: 1 });
  client = new Ollama({ host: fake.url });
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  fake.reset();
});

async function collect(stream: AsyncIterable<ChatResponse>): Promise<{ text: string; thinking: string; parts: ChatResponse[] }> {
  const parts: ChatResponse[] = [];
  for await (const part of stream) parts.push(part);
  return {
    text: parts.map((part) => part.message.content).join(""),
    thinking: parts.map((part) => part.message.thinking ?? "").join(""),
    parts,
  };
}

async function rejection(promise: Promise<unknown>): Promise<Error & { status_code?: number }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
  }
  throw new Error("expected a rejection");
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function postChat(body: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${fake.url}/api/chat`, { method: "POST", headers: { "Content-Type": "application/json" }, body, signal });
}

/** A raw streamed chat whose response (headers) and failure are noted in `events` as `${name} …`. */
function rawChat(name: string, events: string[], body: Record<string, unknown> = {}) {
  const controller = new AbortController();
  const response = postChat(JSON.stringify({ model: "qwen2.5:7b", messages: english, stream: true, ...body }), controller.signal).then(
    (res) => {
      events.push(`${name} headers`);
      return res;
    },
    (error: unknown) => {
      events.push(`${name} failed`);
      throw error;
    },
  );
  // Observed through `events`; the rejection of an aborted request is expected.
  response.catch(() => undefined);
  return { response, abort: () => controller.abort() };
}

async function running(): Promise<Array<Record<string, unknown>>> {
  return (await client.ps()).models as unknown as Array<Record<string, unknown>>;
}

const korean: Message[] = [
  { role: "system", content: "너는 친절한 마법사 헤르미온느야." },
  { role: "user", content: "오늘 호그와트에서 무슨 일이 있었어?" },
];
const english: Message[] = [{ role: "user", content: "What happened at Hogwarts today?" }];

describe("fake ollama: model endpoints", () => {
  it("answers the liveness probe and a version that says it is a fake", async () => {
    const root = await fetch(fake.url);
    expect(root.status).toBe(200);
    expect(root.headers.get("content-type")).toContain("text/plain");
    expect(await root.text()).toBe("Ollama is running");
    expect((await fetch(fake.url, { method: "HEAD" })).status).toBe(200);
    expect((await client.version()).version).toContain("fake");
  });

  it("lists the default models, a thinking model among them", async () => {
    const { models } = await client.list();
    expect(models.map((model) => model.name)).toEqual(["qwen2.5:7b", "llama3.2:3b", "qwen3:8b"]);
    expect(models[0]?.details.family).toBe("qwen2");
  });

  it("shows the context length under the architecture key, and thinking in the capabilities", async () => {
    const qwen = await client.show({ model: "qwen2.5:7b" });
    const llama = await client.show({ model: "llama3.2:3b" });
    expect(qwen.capabilities).toEqual(["completion"]);
    expect((qwen.model_info as unknown as Record<string, unknown>)["qwen2.context_length"]).toBe(32768);
    expect((llama.model_info as unknown as Record<string, unknown>)["llama.context_length"]).toBe(131072);
    expect((await client.show({ model: "qwen3:8b" })).capabilities).toEqual(["completion", "thinking"]);
  });

  it("404s show for an unknown model with the real text", async () => {
    const error = await rejection(client.show({ model: "nope:1b" }));
    expect(error.name).toBe("ResponseError");
    expect(error.status_code).toBe(404);
    expect(error.message).toBe("model 'nope:1b' not found");
  });

  it("lists a loaded model in ps with its context: the requested num_ctx, the default 4096, capped by the model", async () => {
    expect(await running()).toEqual([]);
    await client.chat({ model: "llama3.2:3b", messages: english, options: { num_ctx: 8192 } });
    await client.chat({ model: "qwen2.5:7b", messages: english });
    await client.chat({ model: "qwen3:8b", messages: english, think: false, options: { num_ctx: 1_000_000 } });
    const contexts = Object.fromEntries((await running()).map((model) => [model.name, model.context_length]));
    expect(contexts).toEqual({ "llama3.2:3b": 8192, "qwen2.5:7b": 4096, "qwen3:8b": 40960 });
  });

  it("answers gin's 404 for unknown paths and 405 for a wrong method", async () => {
    const unknown = await fetch(`${fake.url}/api/nothing`);
    expect([unknown.status, await unknown.text()]).toEqual([404, "404 page not found"]);
    const wrongMethod = await fetch(`${fake.url}/api/chat`);
    expect([wrongMethod.status, await wrongMethod.text()]).toEqual([405, "405 method not allowed"]);
    expect((await fetch(`${fake.url}/api/ps`, { method: "POST" })).status).toBe(405);
  });
});

describe("fake ollama: chat", () => {
  it("streams a Korean reply token by token, then a done line with metrics", async () => {
    const { text, parts } = await collect(await client.chat({ model: "qwen2.5:7b", messages: korean, stream: true }));
    expect(text).toBe(fakeReply(korean));
    expect(text).toContain("오늘 호그와트에서 무슨 일이 있었어?");
    const final = parts.at(-1);
    expect(final).toMatchObject({ done: true, done_reason: "stop", model: "qwen2.5:7b" });
    expect(final?.eval_count).toBe(parts.length - 1);
    expect(final?.prompt_eval_count).toBeGreaterThan(0);
    for (const key of ["total_duration", "load_duration", "prompt_eval_duration", "eval_duration"] as const) {
      expect(final?.[key]).toBeGreaterThan(0);
    }
    expect(String(final?.created_at)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  });

  it("streams an English reply that echoes the user", async () => {
    const { text, parts } = await collect(await client.chat({ model: "llama3.2:3b", messages: english, stream: true }));
    expect(text).toBe('*smiles warmly* You said "What happened at Hogwarts today?". That is fascinating! Tell me more?');
    expect(parts.length).toBeGreaterThan(5);
  });

  it("returns one JSON object when stream is false", async () => {
    const response = await client.chat({ model: "qwen2.5:7b", messages: korean, stream: false });
    expect(response.message.content).toBe(fakeReply(korean));
    expect(response.done).toBe(true);
    expect(response.eval_count).toBeGreaterThan(0);
  });

  it("streams NDJSON when the stream flag is absent, like the server default", async () => {
    const response = await postChat(JSON.stringify({ model: "qwen2.5:7b", messages: english }));
    expect(response.headers.get("content-type")).toBe("application/x-ndjson");
    const lines = (await response.text()).split("\n");
    expect(lines.at(-1)).toBe("");
    const parsed = lines.slice(0, -1).map((line) => JSON.parse(line) as { done: boolean });
    expect(parsed.at(-1)?.done).toBe(true);
    expect(parsed.filter((line) => !line.done).length).toBeGreaterThan(1);
  });

  it("stops at num_predict with done_reason length, one token per word", async () => {
    const { text, parts } = await collect(
      await client.chat({ model: "qwen2.5:7b", messages: english, stream: true, options: { num_predict: 3 } }),
    );
    expect(parts).toHaveLength(4);
    expect(text).toBe(tokenize(fakeReply(english)).slice(0, 3).join(""));
    expect(parts.at(-1)).toMatchObject({ done_reason: "length", eval_count: 3 });
    const whole = await client.chat({ model: "qwen2.5:7b", messages: english, options: { num_predict: 1000 } });
    expect(whole).toMatchObject({ done_reason: "stop", eval_count: tokenize(fakeReply(english)).length });
  });

  it("answers title and summary requests in the user's language", () => {
    const title = fakeReply([
      { role: "system", content: "이 대화의 제목을 지어줘." },
      { role: "user", content: "마법 물약 만드는 법을 알려줘!" },
    ]);
    expect(title).toBe("마법 물약 만드는 법을");
    expect(fakeReply([{ role: "system", content: "Summarize the conversation." }, ...english])).toMatch(/^Summary: /);
    expect(fakeReply([{ role: "user", content: "지금까지 내용을 요약해줘" }])).toMatch(/^요약: /);
  });

  it("uses the reply override and records chat bodies over the control endpoint", async () => {
    const control = await fetch(`${fake.url}/__control`, { method: "POST", body: JSON.stringify({ reply: "고정된 답변" }) });
    expect(control.status).toBe(200);
    const response = await client.chat({ model: "qwen2.5:7b", messages: english });
    expect(response.message.content).toBe("고정된 답변");
    const recorded = (await (await fetch(`${fake.url}/__control/requests`)).json()) as Array<{ messages: Message[] }>;
    expect(recorded.at(-1)?.messages).toEqual(english);
    const rejected = await fetch(`${fake.url}/__control`, { method: "POST", body: JSON.stringify({ fault: "explode" }) });
    expect(rejected.status).toBe(400);
    const badKnob = await fetch(`${fake.url}/__control`, { method: "POST", body: JSON.stringify({ numParallel: 0 }) });
    expect(badKnob.status).toBe(400);
  });
});

describe("fake ollama: thinking models", () => {
  it("thinks first when think is absent: thinking chunks with empty content, then the reply", async () => {
    const { text, thinking, parts } = await collect(await client.chat({ model: "qwen3:8b", messages: english, stream: true }));
    expect(thinking).toBe(fakeThinking(english));
    expect(text).toBe(fakeReply(english));
    const firstAnswer = parts.findIndex((part) => part.message.content !== "");
    const thinkingParts = parts.slice(0, firstAnswer);
    expect(thinkingParts.length).toBeGreaterThan(0);
    expect(thinkingParts.every((part) => part.message.thinking && part.message.content === "")).toBe(true);
    expect(parts.slice(firstAnswer).some((part) => part.message.thinking)).toBe(false);
    expect(parts.at(-1)?.eval_count).toBe(tokenize(fakeThinking(english)).length + tokenize(fakeReply(english)).length);
  });

  it("counts thinking against num_predict: a small budget ends in thought, with done_reason length", async () => {
    const { text, thinking, parts } = await collect(
      await client.chat({ model: "qwen3:8b", messages: english, stream: true, options: { num_predict: 5 } }),
    );
    expect(text).toBe("");
    expect(thinking).toBe(tokenize(fakeThinking(english)).slice(0, 5).join(""));
    expect(parts.at(-1)).toMatchObject({ done_reason: "length", eval_count: 5 });
  });

  it("answers directly with think false, accepts a level, and returns the thinking whole when not streaming", async () => {
    const direct = await collect(await client.chat({ model: "qwen3:8b", messages: english, stream: true, think: false }));
    expect(direct.thinking).toBe("");
    expect(direct.text).toBe(fakeReply(english));
    const low = await client.chat({ model: "qwen3:8b", messages: english, think: "low" });
    expect(low.message).toMatchObject({ content: fakeReply(english), thinking: fakeThinking(english) });
  });

  it("refuses think for a model that cannot think", async () => {
    const error = await rejection(client.chat({ model: "llama3.2:3b", messages: english, think: true }));
    expect([error.status_code, error.message]).toEqual([400, '"llama3.2:3b" does not support thinking']);
  });
});

describe("fake ollama: one request at a time per model", () => {
  it("gives a queued request no headers until the one before it has finished", async () => {
    fake.setBehaviour({ tokenDelayMs: 15 });
    await client.chat({ model: "qwen2.5:7b", messages: [] });
    const events: string[] = [];
    const first = rawChat("first", events);
    const firstBody = (await first.response).text().then(() => events.push("first done"));
    const second = rawChat("second", events);
    await until(() => fake.stats.queuedChatRequests === 1);
    await firstBody;
    await (await second.response).text();
    expect(events).toEqual(["first headers", "first done", "second headers"]);
    expect(fake.stats).toMatchObject({ completedChatStreams: 3, loads: 1 });
  });

  it("serves numParallel requests at once", async () => {
    fake.setBehaviour({ numParallel: 2, fault: "stall", faultCount: 1 });
    const events: string[] = [];
    const stalled = rawChat("stalled", events);
    await stalled.response;
    // The stalled request still holds its slot; the second slot serves this one.
    await collect(await client.chat({ model: "qwen2.5:7b", messages: english, stream: true }));
    stalled.abort();
    await until(() => fake.stats.abortedChatStreams === 1);
    expect(events).toEqual(["stalled headers"]);
  });

  it("refuses with 503 past maxQueue waiting requests", async () => {
    fake.setBehaviour({ maxQueue: 1, fault: "stall", faultCount: 1 });
    const events: string[] = [];
    const stalled = rawChat("stalled", events);
    await stalled.response;
    const queued = rawChat("queued", events);
    await until(() => fake.stats.queuedChatRequests === 1);
    const error = await rejection(client.chat({ model: "qwen2.5:7b", messages: english }));
    expect(error.name).toBe("ResponseError");
    expect([error.status_code, error.message]).toEqual([503, "server busy, please try again.  maximum pending requests exceeded"]);
    stalled.abort();
    expect((await (await queued.response).text()).trim().split("\n").length).toBeGreaterThan(1);
    expect(fake.stats).toMatchObject({ rejectedBusy: 1, completedChatStreams: 1 });
  });

  it("drops a client that leaves while queued, and serves the next one in line", async () => {
    fake.setBehaviour({ fault: "stall", faultCount: 1 });
    const events: string[] = [];
    const stalled = rawChat("stalled", events);
    await stalled.response;
    const leaving = rawChat("leaving", events);
    await until(() => fake.stats.queuedChatRequests === 1);
    leaving.abort();
    await until(() => fake.stats.droppedWhileQueued === 1);
    expect(fake.stats.queuedChatRequests).toBe(0);
    const next = client.chat({ model: "qwen2.5:7b", messages: english }).then((reply) => {
      events.push("next done");
      return reply;
    });
    await until(() => fake.stats.queuedChatRequests === 1);
    stalled.abort();
    expect((await next).done).toBe(true);
    expect(events).toEqual(["stalled headers", "leaving failed", "next done"]);
    expect(fake.stats).toMatchObject({ abortedChatStreams: 2, completedChatStreams: 1 });
  });
});

describe("fake ollama: loading and reloading", () => {
  it("loads a model on first use only, and not again for the same num_ctx (a title and a reply)", async () => {
    await client.chat({ model: "qwen2.5:7b", messages: english, stream: false, options: { num_ctx: 8192, num_predict: 20 } });
    await collect(await client.chat({ model: "qwen2.5:7b", messages: english, stream: true, options: { num_ctx: 8192 } }));
    expect(fake.stats).toMatchObject({ loads: 1, reloads: 0 });
    await client.chat({ model: "qwen2.5:7b", messages: english });
    await client.chat({ model: "qwen2.5:7b", messages: english });
    expect(fake.stats).toMatchObject({ loads: 2, reloads: 1 });
  });

  it("treats an absent num_ctx as the server default (defaultNumCtx): no reload against 4096, a reload against 8192", async () => {
    await client.chat({ model: "qwen2.5:7b", messages: english });
    await client.chat({ model: "qwen2.5:7b", messages: english, options: { num_ctx: 4096 } });
    expect(fake.stats.reloads).toBe(0);
    await client.chat({ model: "qwen2.5:7b", messages: english, options: { num_ctx: 8192 } });
    expect(fake.stats.reloads).toBe(1);
    fake.setBehaviour({ defaultNumCtx: 2048 });
    await client.chat({ model: "llama3.2:3b", messages: english });
    expect((await running()).map((model) => [model.name, model.context_length])).toEqual([
      ["qwen2.5:7b", 8192],
      ["llama3.2:3b", 2048],
    ]);
  });

  it("reloads for a new num_ctx only after the requests in flight have finished", async () => {
    fake.setBehaviour({ fault: "stall", faultCount: 1 });
    const events: string[] = [];
    const stalled = rawChat("stalled", events, { options: { num_ctx: 8192 } });
    await stalled.response;
    const other = client.chat({ model: "qwen2.5:7b", messages: english, options: { num_ctx: 2048 } });
    await until(() => fake.stats.queuedChatRequests === 1);
    expect(fake.stats).toMatchObject({ loads: 1, reloads: 0, unloads: 0 });
    stalled.abort();
    expect((await other).done).toBe(true);
    expect(fake.stats).toMatchObject({ loads: 2, reloads: 1, unloads: 1 });
    expect((await running()).map((model) => model.context_length)).toEqual([2048]);
  });

  it("aborts a load when its client leaves: the model stays unloaded, the next request loads it", async () => {
    fake.setBehaviour({ loadDelayMs: 60_000 });
    const events: string[] = [];
    const leaving = rawChat("leaving", events);
    await until(() => fake.stats.loads === 1);
    leaving.abort();
    await until(() => fake.stats.abortedLoads === 1);
    expect(await running()).toEqual([]);
    fake.setBehaviour({ loadDelayMs: 1 });
    expect((await client.chat({ model: "qwen2.5:7b", messages: english })).done).toBe(true);
    expect(fake.stats).toMatchObject({ loads: 2, abortedLoads: 1, completedChatStreams: 1, droppedWhileQueued: 1 });
    expect(events).toEqual(["leaving failed"]);
  });

  it("keeps a model loaded for keep_alive after its last request (default 5 minutes; 0 unloads at once)", async () => {
    await client.chat({ model: "qwen2.5:7b", messages: english });
    const [loaded] = await running();
    expect(Date.parse(String(loaded?.expires_at)) - Date.now()).toBeGreaterThan(4 * 60_000);
    await client.chat({ model: "qwen2.5:7b", messages: english, keep_alive: "20ms" });
    await until(() => fake.stats.unloads === 1);
    expect(await running()).toEqual([]);
    await client.chat({ model: "qwen2.5:7b", messages: english, keep_alive: 0 });
    expect(await running()).toEqual([]);
    expect(fake.stats).toMatchObject({ loads: 2, unloads: 2 });
  });

  it("preloads with empty messages (done_reason load) without waiting for a busy slot", async () => {
    const preload = await client.chat({ model: "qwen2.5:7b", messages: [], options: { num_ctx: 8192 } });
    expect(preload).toMatchObject({ done: true, done_reason: "load" });
    expect((await running()).map((model) => [model.name, model.context_length])).toEqual([["qwen2.5:7b", 8192]]);
    fake.setBehaviour({ fault: "stall", faultCount: 1 });
    const stalled = rawChat("stalled", [], { options: { num_ctx: 8192 } });
    await stalled.response;
    expect((await client.chat({ model: "qwen2.5:7b", messages: [], options: { num_ctx: 8192 } })).done_reason).toBe("load");
    stalled.abort();
    expect(fake.stats).toMatchObject({ loads: 1, reloads: 0 });
    const unload = await client.chat({ model: "qwen2.5:7b", messages: [], keep_alive: 0 });
    expect(unload.done_reason).toBe("unload");
    await until(() => fake.stats.unloads === 1);
  });
});

describe("fake ollama: request validation", () => {
  it.each([
    ["missing model", JSON.stringify({ messages: english }), "model is required"],
    ["empty model", JSON.stringify({ model: "", messages: english }), "model is required"],
    ["bad JSON", "{not json", undefined],
    ["messages not an array", JSON.stringify({ model: "qwen2.5:7b", messages: "hi" }), undefined],
    ["message content not a string", JSON.stringify({ model: "qwen2.5:7b", messages: [{ role: "user", content: 1 }] }), undefined],
  ])("400s on %s", async (_name, body, message) => {
    const response = await postChat(body);
    expect(response.status).toBe(400);
    const payload = (await response.json()) as { error: string };
    expect(typeof payload.error).toBe("string");
    if (message) expect(payload.error).toBe(message);
  });

  it("500s an option of the wrong type, as the scheduler does", async () => {
    const response = await postChat(JSON.stringify({ model: "qwen2.5:7b", messages: english, options: { temperature: "hot" } }));
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: 'option "temperature" must be of type float32' });
  });

  it("rejects an unknown model through the client as a 404 ResponseError with the real text", async () => {
    const error = await rejection(client.chat({ model: "missing:7b", messages: english, stream: true }));
    expect(error.name).toBe("ResponseError");
    expect(error.status_code).toBe(404);
    expect(error.message).toBe("model 'missing:7b' not found");
  });
});

describe("fake ollama: faults", () => {
  it("applies a counted http500 fault once, then recovers", async () => {
    fake.setBehaviour({ fault: "http500", faultCount: 1 });
    const error = await rejection(client.chat({ model: "qwen2.5:7b", messages: english }));
    expect(error.status_code).toBe(500);
    expect(error.message).toBe("fake internal error");
    expect((await client.chat({ model: "qwen2.5:7b", messages: english })).done).toBe(true);
  });

  it("404s every chat under the unknown-model fault, with the scheduler's text", async () => {
    fake.setBehaviour({ fault: "unknown-model" });
    const error = await rejection(client.chat({ model: "qwen2.5:7b", messages: english }));
    expect([error.status_code, error.message]).toEqual([404, 'model "qwen2.5:7b" not found, try pulling it first']);
  });

  it("makes iteration throw on a mid-stream error line", async () => {
    fake.setBehaviour({ fault: "midstream-error" });
    const stream = await client.chat({ model: "qwen2.5:7b", messages: english, stream: true });
    expect((await rejection(collect(stream))).message).toBe("fake mid-stream failure");
    expect(fake.stats.failedChatStreams).toBe(1);
  });

  it("makes iteration throw when the stream ends without a done line", async () => {
    fake.setBehaviour({ fault: "drop" });
    const stream = await client.chat({ model: "qwen2.5:7b", messages: english, stream: true });
    expect((await rejection(collect(stream))).message).toBe("Did not receive done or success response in stream.");
  });

  it("makes iteration throw a network error when the socket is reset", async () => {
    fake.setBehaviour({ fault: "reset" });
    const stream = await client.chat({ model: "qwen2.5:7b", messages: english, stream: true });
    expect((await rejection(collect(stream))).message).toBe("terminated");
  });

  it("hangs until the client gives up, counting the stream as aborted", async () => {
    fake.setBehaviour({ fault: "hang" });
    const impatient = new Ollama({
      host: fake.url,
      fetch: (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(500) }),
    });
    const error = await rejection(impatient.chat({ model: "qwen2.5:7b", messages: english, stream: true }));
    expect(error.name).toBe("TimeoutError");
    await until(() => fake.stats.abortedChatStreams === 1);
    expect(fake.stats.activeChatStreams).toBe(0);
  });
});

describe("fake ollama: abort", () => {
  it("stops generating when the client aborts the stream", async () => {
    fake.setBehaviour({ tokenDelayMs: 40 });
    const stream = await client.chat({ model: "qwen2.5:7b", messages: english, stream: true });
    const received: string[] = [];
    const error = await rejection(
      (async () => {
        for await (const part of stream) {
          received.push(part.message.content);
          if (received.length === 2) stream.abort();
        }
      })(),
    );
    expect(error.name).toBe("AbortError");
    await until(() => fake.stats.abortedChatStreams === 1);
    const stats = (await (await fetch(`${fake.url}/__control/stats`)).json()) as Record<string, number>;
    expect(stats).toMatchObject({ activeChatStreams: 0, abortedChatStreams: 1, completedChatStreams: 0 });
  });
});
