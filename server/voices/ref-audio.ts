import path from "node:path";
import { env } from "@/lib/env.mjs";
import { DomainError } from "@/server/errors";

/** `./presets/` → `presets`, `/` stays `/`. */
const asDirectory = (dir: string) => path.posix.normalize(dir).replace(/(.)\/+$/, "$1");

/**
 * GPT-SoVITS opens `ref_audio_path` on its own host, so a voice could otherwise make it read
 * (and, through its error messages, reveal) any file there. Users' voices may only name files
 * inside one directory (SOVITS_REF_AUDIO_DIR). Paths are read as the TTS host will (POSIX: `/`
 * between folders); anything that could mean another place there is refused outright rather
 * than repaired: `..` segments, backslashes (a folder separator on Windows), control characters.
 *
 * Returns the path normalised (`presets//a.wav` → `presets/a.wav`), or null when it is refused.
 */
export function refAudioPathInside(candidate: string, dir: string): string | null {
  if (candidate.includes("\\") || /\p{Cc}/u.test(candidate)) return null;
  if (candidate.split("/").includes("..")) return null;
  const file = path.posix.normalize(candidate);
  const base = asDirectory(dir);
  if (base === ".") return path.posix.isAbsolute(file) || file === "." || file.endsWith("/") ? null : file;
  const prefix = base.endsWith("/") ? base : `${base}/`;
  return file.startsWith(prefix) && file.length > prefix.length && !file.endsWith("/") ? file : null;
}

/** The directory users' reference audio must be in, as the voice form shows it. */
export const refAudioDir = () => asDirectory(env().SOVITS_REF_AUDIO_DIR);

/** The paths of a voice, normalised; a refused one is bad_input with the allowed directory. */
export function checkRefAudioPaths<T extends { refAudioPath?: string; auxRefAudioPaths?: string[] }>(voice: T): T {
  const dir = refAudioDir();
  const inside = (candidate: string) => {
    const file = refAudioPathInside(candidate, dir);
    if (file === null) {
      throw new DomainError("bad_input", `Reference audio must be a file inside ${dir}/ on the voice server.`, {
        reason: "ref_audio_outside",
        dir,
      });
    }
    return file;
  };
  return {
    ...voice,
    ...(voice.refAudioPath === undefined ? {} : { refAudioPath: inside(voice.refAudioPath) }),
    ...(voice.auxRefAudioPaths === undefined ? {} : { auxRefAudioPaths: voice.auxRefAudioPaths.map(inside) }),
  };
}
