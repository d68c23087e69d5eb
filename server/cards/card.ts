import { z } from "zod";
import { CHARACTER_LIMITS, characterInputSchema, type CharacterInput, type Scenario } from "@/lib/schemas";
import { CHARX_MAX_BYTES } from "@/lib/charx-limits";
import { toPng } from "@/server/images/process";
import { keptAssetsOf, linkedAssets, pngAssetChunks, withoutAssetLinks, type CardAsset, type CardFile } from "./assets";
import { CARD_ERROR_REASONS, cardError } from "./errors";
import { lorebookFromCard, lorebookToCard } from "./lorebook-card";
import { isPng, readTextChunks, withoutTextChunks, withTextChunks, type TextChunk } from "./png-chunks";

export { CARD_ERROR_REASONS };

export interface CardVoice {
  id: string;
  name: string;
  refAudioPath: string;
  promptText: string;
  promptLang: string;
  params: Record<string, unknown>;
}

export interface ImportedCharacter extends Omit<CharacterInput, "voiceId" | "visibility"> {
  /** Unknown card extensions, preserved verbatim (minus our own namespace). */
  extensions: Record<string, unknown>;
  /** Card fields we have no column for (creator, post_history_instructions, …), kept verbatim for re-export; the unused parts of character_book too. */
  cardExtras: Record<string, unknown>;
  /** From extensions.avatarforge.voice. */
  voice: CardVoice | null;
  /** Files the card carried by link (`__asset:N` chunks of a PNG, `data:` URIs), still unchecked. */
  files: CardFile[];
}

export type ExportableCharacter = Omit<CharacterInput, "voiceId" | "visibility"> & {
  extensions: Record<string, unknown>;
  cardExtras: Record<string, unknown>;
  voice: CardVoice | null;
  createdAt?: Date;
  updatedAt?: Date;
};

export interface CardV2Data {
  name: string;
  description: string;
  personality: string;
  scenario: string;
  first_mes: string;
  mes_example: string;
  creator_notes: string;
  system_prompt: string;
  post_history_instructions: string;
  alternate_greetings: string[];
  character_book?: Record<string, unknown>;
  tags: string[];
  creator: string;
  character_version: string;
  extensions: Record<string, unknown>;
}

type V1Fields = Pick<CardV2Data, "name" | "description" | "personality" | "scenario" | "first_mes" | "mes_example">;

export interface CardV2 extends V1Fields {
  spec: "chara_card_v2";
  spec_version: "2.0";
  data: CardV2Data;
}

export interface CardV3Data extends CardV2Data {
  group_only_greetings: string[];
  [extra: string]: unknown;
}

export interface CardV3 {
  spec: "chara_card_v3";
  spec_version: "3.0";
  data: CardV3Data;
}

/** Our namespace inside card `extensions`. */
const NAMESPACE = "avatarforge";
/** Card data we have no column for (RisuAI's scripts, a lorebook's per-entry settings…), as JSON. */
const MAX_KEPT_JSON_BYTES = 2 * 1024 * 1024;

/** Our fields, the card field each comes from, and how messages name them. */
const FIELDS = {
  name: { card: "name", label: "name" },
  persona: { card: "description", label: "persona" },
  personality: { card: "personality", label: "personality" },
  creatorNotes: { card: "creator_notes", label: "creator notes" },
  description: { card: `extensions.${NAMESPACE}.tagline`, label: "tagline" },
  lorebook: { card: "character_book", label: "lorebook" },
  greeting: { card: "first_mes", label: "greeting" },
  alternateGreetings: { card: "alternate_greetings", label: "alternate greetings" },
  exampleDialogue: { card: "mes_example", label: "example dialogue" },
  scenario: { card: "scenario", label: "scenario" },
  systemPrompt: { card: "system_prompt", label: "system prompt" },
  category: { card: `extensions.${NAMESPACE}.category`, label: "category" },
  tags: { card: "tags", label: "tags" },
} as const;
type OurField = keyof typeof FIELDS;

/** Card fields that map onto our columns; every other field of `data` goes to cardExtras. */
const MAPPED_CARD_FIELDS = new Set([
  "name",
  "description",
  "personality",
  "creator_notes",
  "character_book",
  "first_mes",
  "alternate_greetings",
  "mes_example",
  "scenario",
  "system_prompt",
  "tags",
  "extensions",
]);

/** Fields export always writes, empty when cardExtras has none: an empty one is not worth keeping. */
const EMPTY_BY_DEFAULT = new Set(["post_history_instructions", "creator", "character_version", "group_only_greetings"]);

/** Card fields export fills itself, so cardExtras never overrides them in V3. */
const V2_FIELDS = new Set([
  ...MAPPED_CARD_FIELDS,
  "personality",
  "post_history_instructions",
  "character_book",
  "creator",
  "character_version",
]);

// ---------------------------------------------------------------------------------------------
// Import
// ---------------------------------------------------------------------------------------------

const cardText = z.string().nullish();
const cardTextList = z.array(z.string()).nullish();
const cardRecord = z.record(z.string(), z.unknown()).nullish();

/** The types of the card fields we read or re-export by name; limits come later, from our own schema. */
const cardDataSchema = z.looseObject({
  name: z.string(),
  description: cardText,
  personality: cardText,
  scenario: cardText,
  first_mes: cardText,
  mes_example: cardText,
  creator_notes: cardText,
  system_prompt: cardText,
  post_history_instructions: cardText,
  alternate_greetings: cardTextList,
  tags: cardTextList,
  creator: cardText,
  character_version: cardText,
  character_book: cardRecord,
  group_only_greetings: cardTextList,
  extensions: cardRecord,
});
type CardData = z.infer<typeof cardDataSchema>;

const importedFieldsSchema = characterInputSchema.omit({ voiceId: true, visibility: true });
type ImportedFields = z.input<typeof importedFieldsSchema>;

const ownScenarioSchema = z.object({ opponent: z.string(), situation: z.string(), background: z.string() }).partial();

const cardVoiceSchema = z.object({
  id: z.string(),
  name: z.string(),
  refAudioPath: z.string(),
  promptText: z.string(),
  promptLang: z.string(),
  params: z.record(z.string(), z.unknown()),
});

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function tooLarge(maxBytes: number = CHARACTER_LIMITS.cardBytes) {
  return cardError("card_too_large", `Character card files can be at most ${maxBytes / 1024 / 1024} MB.`, { maxBytes, mb: maxBytes / 1024 / 1024 });
}

/**
 * A card from a PNG portrait (its `ccv3` chunk, else `chara`, with RisuAI's `chara-ext-asset_:N`
 * files) or from a JSON file. A PNG may be as large as a CharX (its assets ride in it); its card
 * text, like a JSON card, is held to the card limit.
 */
export function parseCardFile(bytes: Buffer): { character: ImportedCharacter; portrait: Buffer | null } {
  if (isPng(bytes)) {
    if (bytes.length > CHARX_MAX_BYTES) throw tooLarge(CHARX_MAX_BYTES);
    const chunks = readTextChunks(bytes);
    return { character: parseCardJson(cardTextFromPng(chunks), pngAssetChunks(chunks)), portrait: withoutTextChunks(bytes) };
  }
  if (bytes.length > CHARACTER_LIMITS.cardBytes) throw tooLarge();
  const text = decodeUtf8(bytes);
  if (text === null || !text.replace(/^\uFEFF/, "").trimStart().startsWith("{")) {
    throw cardError("card_not_card_file", "This is not a character card: upload a card PNG or a card JSON file.");
  }
  return { character: parseCardJson(text), portrait: null };
}

/** Strict UTF-8 (a leading BOM is dropped), or null when the bytes are not UTF-8 text. */
function decodeUtf8(bytes: Buffer): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

function cardTextFromPng(chunks: TextChunk[]): string {
  const chunk =
    chunks.find((c) => c.keyword.toLowerCase() === "ccv3") ?? chunks.find((c) => c.keyword.toLowerCase() === "chara");
  if (!chunk) throw cardError("card_no_chunk", "This PNG image has no character card in it.");
  const json = decodeUtf8(decodeBase64(chunk.text, chunk.keyword));
  if (json === null) throw cardError("card_bad_json", "The character card is not valid UTF-8 text.");
  return json;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Buffer.from(…, "base64") skips characters it does not know; a damaged card should fail instead. */
function decodeBase64(text: string, keyword: string): Buffer {
  const trimmed = text.trim();
  if (!BASE64.test(trimmed)) {
    throw cardError("card_bad_base64", `The card's "${keyword}" chunk is not valid base64.`, { chunk: keyword });
  }
  return Buffer.from(trimmed, "base64");
}

/** A card as JSON text: V1, or V2/V3 with the character under `data`; `pngAssets` are the files its `__asset:N` links name. */
export function parseCardJson(text: string, pngAssets: ReadonlyMap<string, Buffer> = new Map()): ImportedCharacter {
  if (Buffer.byteLength(text, "utf8") > CHARACTER_LIMITS.cardBytes) throw tooLarge();
  const card = parseJsonObject(text.replace(/^\uFEFF/, ""));
  return importCardData(cardDataOf(card), pngAssets);
}

/** Nesting deeper than any real card (a lorebook entry sits ~5 levels down) is refused unparsed. */
export const MAX_CARD_DEPTH = 64;
/** Keys that would reach an object's prototype in code that copies the card: dropped on import. */
const PROTOTYPE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** How deeply the JSON text nests objects and arrays (strings skipped), without parsing it. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

/**
 * Text a card may carry into the database: NUL and other control characters go (Postgres text and
 * jsonb refuse NUL), broken surrogates become U+FFFD.
 */
function storableText(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uFFFE\uFFFF]/g, "")
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
}

/** JSON.parse reviver: storable strings and keys, and no prototype keys. */
function cleanCardValue(_key: string, value: unknown): unknown {
  if (typeof value === "string") return storableText(value);
  if (!isRecord(value)) return value;
  const clean: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (!PROTOTYPE_KEYS.has(key)) Object.defineProperty(clean, storableText(key), { value: item, enumerable: true, writable: true, configurable: true });
  }
  return clean;
}

function parseJsonObject(text: string): Record<string, unknown> {
  if (jsonDepth(text) > MAX_CARD_DEPTH) {
    throw cardError("card_invalid", `The character card nests deeper than ${MAX_CARD_DEPTH} levels.`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text, cleanCardValue);
  } catch (error) {
    const detail = error instanceof Error ? `: ${error.message}` : "";
    throw cardError("card_bad_json", `The character card is not valid JSON${detail}.`);
  }
  if (!isRecord(value)) throw cardError("card_invalid", "The character card must be a JSON object.");
  return value;
}

function cardDataOf(card: Record<string, unknown>): Record<string, unknown> {
  // V1 cards have no spec: the fields sit at the top level.
  if (!("spec" in card)) return card;
  const { spec } = card;
  if (spec !== "chara_card_v2" && spec !== "chara_card_v3") {
    throw cardError("card_unknown_spec", `Unknown character card format "${String(spec)}": only V1, V2 and V3 cards can be imported.`, {
      spec: String(spec),
    });
  }
  if (!isRecord(card.data)) {
    throw cardError("card_unknown_spec", `The ${spec} card has no "data" object.`, { spec });
  }
  return card.data;
}

function importCardData(raw: Record<string, unknown>, pngAssets: ReadonlyMap<string, Buffer>): ImportedCharacter {
  const data = checkCardTypes(raw);
  const { [NAMESPACE]: own, ...cardExtensions } = data.extensions ?? {};
  // Files the card carries by link become files; what it only points at stays in the card.
  const linked = linkedAssets(raw.assets, cardExtensions, pngAssets);
  const extensions = linked.extensions;
  const ours = readOwnNamespace(own);
  const book = data.character_book ? lorebookFromCard(data.character_book) : null;
  const creatorNotes = data.creator_notes ?? "";
  const fields = checkLimits({
    name: data.name,
    persona: data.description ?? "",
    personality: data.personality ?? "",
    creatorNotes,
    description: ours.tagline ?? taglineOf(creatorNotes),
    lorebook: book?.lorebook,
    greeting: data.first_mes ?? "",
    alternateGreetings: withoutBlanks(data.alternate_greetings),
    exampleDialogue: data.mes_example ?? "",
    scenario: ours.scenario ?? { situation: data.scenario ?? "" },
    systemPrompt: data.system_prompt ?? "",
    category: ours.category,
    tags: withoutBlanks(data.tags),
  });
  const { assets: _listed, ...otherExtras } = extrasOf(raw);
  const cardExtras = {
    ...otherExtras,
    ...(linked.kept.length > 0 && { assets: linked.kept }),
    ...(book?.kept && { character_book: book.kept }),
  };
  checkKeptSize("cardExtras", cardExtras, "extra fields (lorebook and others)");
  checkKeptSize("extensions", extensions, "extensions");
  return { ...fields, extensions, cardExtras, voice: ours.voice, files: linked.files };
}

/** Our field name for a card field, or the card field's own name when we have no column for it. */
function ourFieldFor(cardField: string): string {
  const entry = Object.entries(FIELDS).find(([, field]) => field.card === cardField);
  return entry ? entry[0] : cardField;
}

function checkCardTypes(raw: Record<string, unknown>): CardData {
  const result = cardDataSchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const cardField = String(issue?.path[0] ?? "");
  const problem = raw[cardField] === undefined ? "is missing" : `has the wrong type (expected ${expectedOf(issue)})`;
  throw cardError("card_invalid", `The card's "${cardField}" field ${problem}.`, { field: ourFieldFor(cardField) });
}

function expectedOf(issue: z.core.$ZodIssue | undefined): string {
  return issue?.code === "invalid_type" ? issue.expected : "another value";
}

/** Blank greetings and tags carry nothing, and our schema rejects them. */
function withoutBlanks(list: string[] | null | undefined): string[] {
  return (list ?? []).filter((item) => item.trim() !== "");
}

function readOwnNamespace(value: unknown): { scenario: Partial<Scenario> | null; category: string; voice: CardVoice | null; tagline: string | null } {
  const own = isRecord(value) ? value : {};
  const scenario = ownScenarioSchema.safeParse(own.scenario);
  const voice = cardVoiceSchema.safeParse(own.voice);
  return {
    scenario: scenario.success ? scenario.data : null,
    category: typeof own.category === "string" ? own.category : "",
    voice: voice.success ? voice.data : null,
    tagline: typeof own.tagline === "string" ? own.tagline : null,
  };
}

const TAGLINE_LENGTH = 140;

/**
 * The tagline shown on a card, for a card from another app: the first line of its creator notes
 * that says something, without markup, shortened at a word.
 */
export function taglineOf(creatorNotes: string): string {
  const line =
    creatorNotes
      .replace(/<[^>]*>/g, " ")
      .split(/\r?\n/)
      .map((l) => l.replace(/^[\s#>*_~`-]+|[\s*_~`]+$/g, "").replace(/\s+/g, " ").trim())
      .find((l) => /[\p{L}\p{N}]/u.test(l) && !/^https?:\/\//.test(l)) ?? "";
  if (line.length <= TAGLINE_LENGTH) return line;
  const cut = line.slice(0, TAGLINE_LENGTH);
  const space = cut.lastIndexOf(" ");
  return `${(space > TAGLINE_LENGTH / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

function checkLimits(fields: ImportedFields): z.output<typeof importedFieldsSchema> {
  const result = importedFieldsSchema.safeParse(fields);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw issue ? fieldError(issue) : cardError("card_invalid", "The character card is not valid.");
}

function isOurField(key: unknown): key is OurField {
  return typeof key === "string" && key in FIELDS;
}

function fieldError(issue: z.core.$ZodIssue): Error {
  const top = issue.path[0];
  const field = issue.path.filter((key) => typeof key === "string").join(".");
  const named = isOurField(top) ? `The character's ${FIELDS[top].label} (card field "${FIELDS[top].card}")` : "The character card";
  if (issue.code !== "too_big") {
    return cardError("card_invalid", `${named} is not valid: ${issue.message}`, { field });
  }
  const max = Number(issue.maximum);
  const entry = issue.path.find((key) => typeof key === "number");
  if (issue.origin === "array") return cardError("card_field_too_many", `${named} has more than ${max} entries.`, { field, max });
  const problem = entry === undefined ? "is" : `has an entry (number ${entry + 1}) that is`;
  return cardError("card_field_too_long", `${named} ${problem} longer than ${max} characters.`, {
    field,
    max,
    ...(entry !== undefined && { entry: entry + 1 }),
  });
}

function isExportDefault(field: string, value: unknown): boolean {
  return EMPTY_BY_DEFAULT.has(field) && (value === "" || (Array.isArray(value) && value.length === 0));
}

/** The card fields we have no column for, verbatim; nulls and values export writes anyway are left out. */
function extrasOf(raw: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(raw).filter(
      ([field, value]) => !MAPPED_CARD_FIELDS.has(field) && value !== null && !isExportDefault(field, value),
    ),
  );
}

function checkKeptSize(field: "cardExtras" | "extensions", value: Record<string, unknown>, what: string) {
  const bytes = Buffer.byteLength(JSON.stringify(value), "utf8");
  if (bytes > MAX_KEPT_JSON_BYTES) {
    throw cardError("card_field_too_long", `The card's ${what} must fit in ${MAX_KEPT_JSON_BYTES / 1024} KB.`, {
      field,
      max: MAX_KEPT_JSON_BYTES,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Export
// ---------------------------------------------------------------------------------------------

/** The scenario as one text for apps that know only the card's `scenario` string. */
function flattenScenario({ opponent, situation, background }: Scenario): string {
  return [opponent && `{{user}}: ${opponent}`, situation, background].filter((part) => part !== "").join("\n\n");
}

function textExtra(extras: Record<string, unknown>, field: string): string {
  const value = extras[field];
  return typeof value === "string" ? value : "";
}

function cardDataV2(c: ExportableCharacter): CardV2Data {
  const extras = c.cardExtras;
  const characterBook = lorebookToCard(c.lorebook, extras.character_book);
  return {
    name: c.name,
    description: c.persona,
    personality: c.personality,
    scenario: flattenScenario(c.scenario),
    first_mes: c.greeting,
    mes_example: c.exampleDialogue,
    // A character made here has a tagline and no notes: the tagline is what it says of itself.
    creator_notes: c.creatorNotes || c.description,
    system_prompt: c.systemPrompt,
    post_history_instructions: textExtra(extras, "post_history_instructions"),
    alternate_greetings: c.alternateGreetings,
    ...(characterBook && { character_book: characterBook }),
    tags: c.tags,
    creator: textExtra(extras, "creator"),
    character_version: textExtra(extras, "character_version"),
    extensions: { ...withoutAssetLinks(c.extensions), [NAMESPACE]: { scenario: c.scenario, category: c.category, voice: c.voice, tagline: c.description } },
  };
}

export function buildCardV2(c: ExportableCharacter): CardV2 {
  const data = cardDataV2(c);
  const { name, description, personality, scenario, first_mes, mes_example } = data;
  // Top-level copies of the V1 fields keep V1-only readers working.
  return { spec: "chara_card_v2", spec_version: "2.0", name, description, personality, scenario, first_mes, mes_example, data };
}

function unixSeconds(date: Date | undefined): number | undefined {
  return date && Math.floor(date.getTime() / 1000);
}

/** The original creation date of an imported card wins over ours; our last change is the newest modification. */
function cardDates(c: ExportableCharacter): { creation_date?: unknown; modification_date?: unknown } {
  const created = c.cardExtras.creation_date ?? unixSeconds(c.createdAt);
  const modified = unixSeconds(c.updatedAt) ?? c.cardExtras.modification_date;
  return {
    ...(created !== undefined && { creation_date: created }),
    ...(modified !== undefined && { modification_date: modified }),
  };
}

/**
 * The V3 card. Its `data.assets`: the portrait as `ccdefault:` (the card's own picture; a CharX
 * writes it as a file), then `assets` (the files export writes, by the URI the format uses), then
 * what the imported card only pointed at. Never a link to a file the export does not carry.
 */
export function buildCardV3(c: ExportableCharacter, assets: readonly CardAsset[] = []): CardV3 {
  const v3Extras = Object.fromEntries(Object.entries(c.cardExtras).filter(([field]) => !V2_FIELDS.has(field) && field !== "assets"));
  const groupGreetings = z.array(z.string()).safeParse(c.cardExtras.group_only_greetings);
  return {
    spec: "chara_card_v3",
    spec_version: "3.0",
    data: {
      ...cardDataV2(c),
      ...v3Extras,
      group_only_greetings: groupGreetings.success ? groupGreetings.data : [],
      ...cardDates(c),
      assets: [{ type: "icon", uri: "ccdefault:", name: "main", ext: "png" }, ...assets, ...keptAssetsOf(c.cardExtras.assets)],
    },
  };
}

/** A file the character carries (an asset, x_meta or module), as export reads it back. */
export interface ExportFile {
  kind: "asset" | "x_meta" | "module";
  type: string | null;
  name: string;
  ext: string;
  contentType: string;
  bytes: Buffer;
}

const assetsIn = (files: readonly ExportFile[]) => files.filter((f) => f.kind === "asset");

/** A V3 card as a pretty-printed JSON file; the files it carries ride in it as `data:` URIs (as RisuAI writes them). */
export function exportCardJson(c: ExportableCharacter, files: readonly ExportFile[] = []): string {
  const assets = assetsIn(files).map((f) => ({ type: f.type ?? "other", uri: `data:${f.contentType};base64,${f.bytes.toString("base64")}`, name: f.name, ext: f.ext }));
  return JSON.stringify(buildCardV3(c, assets), null, 2);
}

function base64Json(card: object): string {
  return Buffer.from(JSON.stringify(card), "utf8").toString("base64");
}

/**
 * The portrait as a PNG carrying the card twice: `chara` (V2) for older apps and `ccv3` (V3), and
 * the files it carries as RisuAI writes them: each in a `chara-ext-asset_:N` chunk, named in the V3
 * card's assets as `__asset:N`.
 */
export async function exportCardPng(c: ExportableCharacter, portrait: Buffer, files: readonly ExportFile[] = []): Promise<Buffer> {
  const png = await toPng(portrait);
  const carried = assetsIn(files);
  const assets = carried.map((f, i) => ({ type: f.type ?? "other", uri: `__asset:${i + 1}`, name: f.name, ext: f.ext }));
  return withTextChunks(png, [
    { keyword: "chara", text: base64Json(buildCardV2(c)) },
    ...carried.map((f, i) => ({ keyword: `chara-ext-asset_:${i + 1}`, text: f.bytes.toString("base64") })),
    { keyword: "ccv3", text: base64Json(buildCardV3(c, assets)) },
  ]);
}
