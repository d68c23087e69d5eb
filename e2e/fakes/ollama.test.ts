// Proves the fake is compatible with the official `ollama` client the app uses.
import { Ollama, type ChatResponse, type Message } from "ollama";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fakeReply, startFakeOllama, type FakeOllama } from "./ollama";

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

async function collect(stream: AsyncIterable<ChatResponse>): Promise<{ text: string; parts: ChatResponse[] }> {
  const parts: ChatResponse[] = [];
  for await (const part of stream) parts.push(part);
  return { text: parts.map((part) => part.message.content).join(""), parts };
}

async function rejection(promise: Promise<unknown>): Promise<Error & { status_code?: number }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
  }
  throw new Error("expected a rejection");
}

async function until(condition: () => boolean, timeoutMs = 1000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function postChat(body: string): Promise<Response> {
  return fetch(`${fake.url}/api/chat`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
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

  it("lists the default models", async () => {
    const { models } = await client.list();
    expect(models.map((model) => model.name)).toEqual(["qwen2.5:7b", "llama3.2:3b"]);
    expect(models[0]?.details.family).toBe("qwen2");
  });

  it("shows the context length under the architecture key", async () => {
    const qwen = await client.show({ model: "qwen2.5:7b" });
    const llama = await client.show({ model: "llama3.2:3b" });
    expect(qwen.capabilities).toEqual(["completion"]);
    expect((qwen.model_info as unknown as Record<string, unknown>)["qwen2.context_length"]).toBe(32768);
    expect((llama.model_info as unknown as Record<string, unknown>)["llama.context_length"]).toBe(131072);
  });

  it("404s show for an unknown model", async () => {
    const error = await rejection(client.show({ model: "nope:1b" }));
    expect(error.name).toBe("ResponseError");
    expect(error.status_code).toBe(404);
    expect(error.message).toBe("model 'nope:1b' not found");
  });

  it("lists a model in ps once it has been used, with the requested num_ctx", async () => {
    expect((await client.ps()).models).toEqual([]);
    await client.chat({ model: "llama3.2:3b", messages: english, options: { num_ctx: 8192 } });
    const running = (await client.ps()).models as unknown as Array<Record<string, unknown>>;
    expect(running.map((model) => [model.name, model.context_length])).toEqual([["llama3.2:3b", 8192]]);
  });

  it("404s unknown routes", async () => {
    expect((await fetch(`${fake.url}/api/nothing`)).status).toBe(404);
    expect((await fetch(`${fake.url}/api/chat`)).status).toBe(404);
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

  it("stops at num_predict with done_reason length", async () => {
    const { parts } = await collect(
      await client.chat({ model: "qwen2.5:7b", messages: english, stream: true, options: { num_predict: 3 } }),
    );
    expect(parts).toHaveLength(4);
    expect(parts.at(-1)).toMatchObject({ done_reason: "length", eval_count: 3 });
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
  });
});

describe("fake ollama: request validation", () => {
  it.each([
    ["missing model", JSON.stringify({ messages: english }), "model is required"],
    ["empty model", JSON.stringify({ model: "", messages: english }), "model is required"],
    ["bad JSON", "{not json", undefined],
    ["messages not an array", JSON.stringify({ model: "qwen2.5:7b", messages: "hi" }), undefined],
    ["message content not a string", JSON.stringify({ model: "qwen2.5:7b", messages: [{ role: "user", content: 1 }] }), undefined],
    [
      "string temperature",
      JSON.stringify({ model: "qwen2.5:7b", messages: english, options: { temperature: "hot" } }),
      'option "temperature" must be of type float32',
    ],
  ])("400s on %s", async (_name, body, message) => {
    const response = await postChat(body);
    expect(response.status).toBe(400);
    const payload = (await response.json()) as { error: string };
    expect(typeof payload.error).toBe("string");
    if (message) expect(payload.error).toBe(message);
  });

  it("rejects an unknown model through the client as a 404 ResponseError", async () => {
    const error = await rejection(client.chat({ model: "missing:7b", messages: english, stream: true }));
    expect(error.name).toBe("ResponseError");
    expect(error.status_code).toBe(404);
    expect(error.message).toBe('model "missing:7b" not found, try pulling it first');
  });

  it("only loads the model when there are no messages", async () => {
    const response = await client.chat({ model: "qwen2.5:7b", messages: [] });
    expect(response).toMatchObject({ done: true, done_reason: "load" });
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

  it("404s every chat under the unknown-model fault", async () => {
    fake.setBehaviour({ fault: "unknown-model" });
    const error = await rejection(client.chat({ model: "qwen2.5:7b", messages: english }));
    expect(error.status_code).toBe(404);
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
      fetch: (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(100) }),
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
