import { describe, expect, it } from "vitest";
import { describeError } from "./app-error";
import { translator } from "./i18n";

const ko = translator("ko");
const apiError = (data: Record<string, unknown>) => ({ data: { zodError: null, appCode: null, appParams: null, ...data } });

describe("describeError", () => {
  it("says why a card was refused, in the reader's language", () => {
    const error = apiError({ appCode: "bad_input", appParams: { reason: "card_no_chunk" } });
    expect(describeError(error, ko)).toBe("이 PNG에는 캐릭터 카드가 들어 있지 않아요.");
    expect(describeError(error, translator("en"))).toBe("This PNG has no character card inside it.");
  });

  it("names the field as the form does, and leaves out a detail the server did not give", () => {
    const tooLong = apiError({ appCode: "bad_input", appParams: { reason: "card_field_too_long", field: "persona", max: 12000 } });
    expect(describeError(tooLong, ko)).toBe("카드의 ‘페르소나’ 항목이 이 앱에서 허용하는 길이(12000자)보다 길어요.");
    expect(describeError(tooLong, translator("en"))).toBe("The card's “Persona” is longer than this app allows (12000 characters).");
    const nested = apiError({ appCode: "bad_input", appParams: { reason: "card_invalid", field: "scenario.situation" } });
    expect(describeError(nested, ko)).toBe("카드에 꼭 필요한 항목이 없거나 형식이 잘못되었어요 (상황).");
    const unnamed = apiError({ appCode: "bad_input", appParams: { reason: "card_invalid" } });
    expect(describeError(unnamed, ko)).toBe("카드에 꼭 필요한 항목이 없거나 형식이 잘못되었어요.");
  });

  it("falls back to the error code's sentence for an unknown reason", () => {
    const error = apiError({ appCode: "bad_input", appParams: { reason: "something_new" } });
    expect(describeError(error, ko)).toBe(ko("error.bad_input"));
  });

  it("shows the first zod message, and a generic sentence for anything else", () => {
    expect(describeError(apiError({ zodError: { formErrors: [], fieldErrors: { name: ["Give the character a name."] } } }), ko)).toBe("Give the character a name.");
    expect(describeError(apiError({ code: "UNAUTHORIZED" }), ko)).toBe(ko("error.unauthorized"));
    expect(describeError(new Error("boom"), ko)).toBe(ko("error.generic"));
  });
});
