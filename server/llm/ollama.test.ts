import { afterEach, describe, expect, it, vi } from "vitest";
import { env } from "@/lib/env.mjs";
import { llmError, thinkFor } from "./ollama";

/** What the official client throws for an HTTP error answer. */
const responseError = (status: number, text: string) => Object.assign(new Error(text), { name: "ResponseError", status_code: status, error: text });

describe("llmError: Ollama's failures in the app's words", () => {
  afterEach(() => vi.restoreAllMocks());

  it("keeps Ollama's address and error text out of the error and writes them to the server log", () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const internal = "llama runner process has terminated: open /srv/ollama/models/blobs/sha256-1f2e: no such file";
    const cases = [
      [responseError(500, internal), "llm_failed", "The language model failed to reply."],
      [new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED 10.20.30.40:11434") }), "llm_unreachable", "The language model server is unreachable."],
      [new DOMException("The operation was aborted due to timeout", "TimeoutError"), "llm_timeout", "The language model server did not answer in time."],
      [new Error(internal), "llm_failed", "The language model failed to reply."],
    ] as const;
    for (const [cause, code, message] of cases) {
      const error = llmError(cause, "qwen2.5:7b");
      expect(error).toMatchObject({ code, message, params: {} });
    }
    const logged = log.mock.calls.map((call) => call.join(" ")).join("\n");
    expect(logged).toContain(internal);
    expect(logged).toContain("ECONNREFUSED 10.20.30.40:11434");
    expect(logged).toContain(env().OLLAMA_HOST);
  });

  it("names the model the user chose when it is not installed, and says when the server is busy", () => {
    expect(llmError(responseError(404, 'model "qwen2.5:7b" not found, try pulling it first'), "qwen2.5:7b")).toMatchObject({
      code: "llm_model_missing",
      params: { model: "qwen2.5:7b" },
    });
    expect(llmError(responseError(503, "server overloaded at 10.0.0.5"), "qwen2.5:7b")).toMatchObject({ code: "busy", params: {} });
  });
});

describe("thinkFor: think is always sent, off unless asked", () => {
  it("passes the chat's choice to thinking models, and gives gpt-oss (which always thinks) its lowest level", () => {
    expect(thinkFor("qwen3:8b", false)).toBe(false);
    expect(thinkFor("qwen3:8b", true)).toBe(true);
    expect(thinkFor("gpt-oss:20b", true)).toBe("low");
    expect(thinkFor("gpt-oss:120b", false)).toBe("low");
    expect(thinkFor("library/gpt-oss:20b", true)).toBe("low");
    expect(thinkFor("my-gpt-oss-tune", true)).toBe(true);
  });
});
