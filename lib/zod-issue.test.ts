import { describe, expect, it } from "vitest";
import type { ZodError } from "zod";
import { describeError, fieldErrorsOf } from "./app-error";
import { translator } from "./i18n";
import { characterInputSchema, messageTextSchema, sessionSettingsPatchSchema } from "./schemas";
import { zodIssues } from "./zod-issue";

const ko = translator("ko");
const en = translator("en");
/** What the browser receives for a refused input (server/api/trpc.ts's error formatter). */
const refused = (error: ZodError | undefined) => ({ data: { zodError: null, appCode: null, zodIssues: error ? zodIssues(error) : null } });

describe("zod messages in the reader's language", () => {
  it("a too-small reply length reads in Korean in the Korean UI", () => {
    const error = refused(sessionSettingsPatchSchema.safeParse({ maxTokens: 8 }).error);
    const input = { data: { ...error.data, zodIssues: error.data.zodIssues?.map((issue) => ({ ...issue, path: `settings.${issue.path}` })) } };
    expect(describeError(input, ko)).toBe(`${ko("settings.maxTokens")}: 16 이상이어야 해요.`);
    expect(describeError(input, ko)).not.toMatch(/[A-Za-z]{3}/);
    expect(describeError(input, en)).toBe(`${en("settings.maxTokens")}: Must be 16 or more.`);
  });

  it("turns the schemas' own sentences into catalog sentences", () => {
    expect(describeError(refused(messageTextSchema.safeParse("   ").error), ko)).toBe("먼저 메시지를 입력해 주세요.");
    expect(describeError(refused(messageTextSchema.safeParse("a\u0000b").error), ko)).toBe(ko("zod.forbidden"));
  });

  it("gives a form each field's problems in Korean", () => {
    const error = refused(characterInputSchema.safeParse({ name: "", tags: Array.from({ length: 40 }, (_, i) => `t${i}`) }).error);
    const fields = fieldErrorsOf(error, ko);
    expect(fields.name).toEqual([ko("form.nameRequired")]);
    expect(fields.tags).toEqual(["최대 30개까지 넣을 수 있어요."]);
  });

  it("keeps the English field errors of a server that sends no issues", () => {
    expect(fieldErrorsOf({ data: { zodError: { fieldErrors: { name: ["Give the character a name."] } } } }, ko)).toEqual({ name: ["Give the character a name."] });
  });
});
