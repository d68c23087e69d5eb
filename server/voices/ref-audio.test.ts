import { describe, expect, it } from "vitest";
import type { VoiceInput } from "@/lib/schemas";
import { DomainError } from "@/server/errors";
import { checkRefAudioPaths, refAudioDir, refAudioPathInside } from "./ref-audio";

describe("reference audio paths (a relative directory, as by default)", () => {
  it("accepts files inside the directory, in sub-folders too, normalised", () => {
    expect(refAudioPathInside("presets/my.wav", "presets")).toBe("presets/my.wav");
    expect(refAudioPathInside("presets/ko/calm.wav", "presets")).toBe("presets/ko/calm.wav");
    expect(refAudioPathInside("./presets//my.wav", "presets/")).toBe("presets/my.wav");
    expect(refAudioPathInside("presets/./목소리.wav", "./presets")).toBe("presets/목소리.wav");
  });

  it("refuses whatever leads out of it or could be read otherwise on the TTS host", () => {
    for (const path of [
      "/etc/passwd",
      "../../etc/passwd",
      "presets/../x.wav",
      "presets/../../x",
      "presets/sub/../../x.wav",
      "presets2/x.wav",
      "presets",
      "presets/",
      "presets/.",
      "/presets/x.wav",
      "presets\\x.wav",
      "presets\\..\\..\\x.wav",
      "presets/x.wav\0.txt",
      "presets/x\n.wav",
      "presets/x\u0085.wav",
      "x.wav",
    ]) {
      expect(refAudioPathInside(path, "presets"), JSON.stringify(path)).toBeNull();
    }
  });
});

describe("reference audio paths (an absolute directory, or the TTS server's own)", () => {
  it("follows the directory as configured", () => {
    expect(refAudioPathInside("/srv/voices/a.wav", "/srv/voices")).toBe("/srv/voices/a.wav");
    expect(refAudioPathInside("srv/voices/a.wav", "/srv/voices")).toBeNull();
    expect(refAudioPathInside("/srv/voices-old/a.wav", "/srv/voices")).toBeNull();
    expect(refAudioPathInside("/srv/voices/../secrets/a.wav", "/srv/voices")).toBeNull();
  });

  it("with '.', any relative file without '..' (the server's working directory)", () => {
    expect(refAudioPathInside("refs/a.wav", ".")).toBe("refs/a.wav");
    expect(refAudioPathInside("/etc/passwd", ".")).toBeNull();
    expect(refAudioPathInside("../a.wav", ".")).toBeNull();
    expect(refAudioPathInside(".", ".")).toBeNull();
  });
});

describe("checkRefAudioPaths", () => {
  it("checks the main and the auxiliary paths against SOVITS_REF_AUDIO_DIR and returns them normalised", () => {
    expect(refAudioDir()).toBe("presets");
    expect(checkRefAudioPaths({ name: "v", refAudioPath: "presets//a.wav", auxRefAudioPaths: ["presets/b.wav"] })).toEqual({
      name: "v",
      refAudioPath: "presets/a.wav",
      auxRefAudioPaths: ["presets/b.wav"],
    });
    // A patch without paths passes as it is.
    const rename: Partial<VoiceInput> = { name: "v" };
    expect(checkRefAudioPaths(rename)).toEqual({ name: "v" });
  });

  it("refuses with bad_input, the reason and the allowed directory, never echoing the path", () => {
    for (const voice of [{ refAudioPath: "/etc/passwd" }, { refAudioPath: "presets/a.wav", auxRefAudioPaths: ["presets/ok.wav", "../x.wav"] }]) {
      const error = (() => {
        try {
          checkRefAudioPaths(voice);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({ code: "bad_input", params: { reason: "ref_audio_outside", dir: "presets" } });
      expect((error as Error).message).not.toContain("passwd");
    }
  });
});
