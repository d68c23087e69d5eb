import type { MessageKey, Translate } from "./index";

/**
 * Names stored in the app's own language that each reader should read in theirs: the gallery's
 * categories (stored as their Korean names, lib/schemas.ts CATEGORIES) and the preset voices'
 * names and descriptions (server/db/presets.ts). What a person typed is shown as typed.
 */
function translated(key: string, fallback: string, t: Translate) {
  const text = t(key as MessageKey);
  return text === key ? fallback : text;
}

export function categoryLabel(category: string, t: Translate) {
  return translated(`category.${category}`, category, t);
}

type VoiceLike = { id: string; name: string; description?: string | null; ownerId: string | null };

export function voiceName(voice: VoiceLike, t: Translate) {
  return voice.ownerId === null ? translated(`voice.${voice.id}.name`, voice.name, t) : voice.name;
}

export function voiceDescription(voice: VoiceLike, t: Translate) {
  const description = voice.description ?? "";
  return voice.ownerId === null && description ? translated(`voice.${voice.id}.description`, description, t) : description;
}
