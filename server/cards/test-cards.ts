/**
 * Test fixtures: character cards written from the V1/V2/V3 specs (see
 * /work/shared/protocols/character-card.md), with Korean text and placeholders, and cards built
 * the way RisuAI and SillyTavern write them (read from their exporters): a RisuAI CharX (streamed
 * zip, deflated entries with data descriptors, assets under assets/<type>/<kind>/, x_meta/*.json,
 * module.risum, card.json last), a CHARX-JPEG, a RisuAI PNG with `chara-ext-asset_:N` chunks, and
 * a large SillyTavern V2 PNG.
 */
import { Zip, ZipDeflate } from "fflate";
import sharp from "sharp";
import { DomainError } from "@/server/errors";
import { withTextChunks, type TextChunk } from "./png-chunks";

export const v1Card = () => ({
  name: "민준",
  description: "<BOT>는 동네 빵집 주인이다. 새벽마다 <USER>를 위해 크루아상을 굽는다.",
  personality: "느긋함, 다정함",
  scenario: "이른 아침, 빵집 문이 열린다.",
  first_mes: "어서 와요, {{user}}! 방금 나온 빵이 있어요.",
  mes_example: "<START>\n{{user}}: 오늘의 추천은?\n{{char}}: 단연 소금빵이죠.",
});

export const fullV2Card = () => ({
  spec: "chara_card_v2",
  spec_version: "2.0",
  data: {
    name: "서연",
    description: "{{char}}는 서울의 작은 서점을 운영하는 스물여덟 살 점원이다. {{user}}를 늘 반갑게 맞는다.",
    personality: "차분하고 다정함, 책 이야기만 나오면 수다스러워짐",
    scenario: "비 오는 저녁, {{user}}가 서점에 들어온다.",
    first_mes: "*우산을 접으며* 어서 오세요, {{user}}님! 오늘은 어떤 책을 찾으세요?",
    mes_example: "<START>\n{{user}}: 추천해 줄 책 있어요?\n{{char}}: *눈을 반짝이며* 물론이죠!",
    creator_notes: "비 오는 날 어울리는 잔잔한 대화 캐릭터.",
    system_prompt: "{{original}}\n{{char}}는 항상 존댓말을 쓴다.",
    post_history_instructions: "{{char}}의 말투를 유지할 것.",
    alternate_greetings: ["*책장을 정리하다가* 아, {{user}}님 오셨어요?", "오늘은 문을 일찍 닫으려고 했는데… 들어오세요!"],
    character_book: {
      name: "빗소리 책방",
      scan_depth: 4,
      token_budget: 512,
      recursive_scanning: false,
      extensions: {},
      entries: [
        {
          keys: ["서점", "책방"],
          content: "서점 이름은 '빗소리 책방'이다. {{char}}가 3년째 운영 중.",
          extensions: {},
          enabled: true,
          insertion_order: 100,
          case_sensitive: false,
          name: "서점",
          priority: 10,
          id: 1,
          comment: "",
          selective: false,
          secondary_keys: [],
          constant: false,
          position: "before_char",
        },
        {
          keys: ["고양이"],
          content: "서점에는 '먼지'라는 회색 고양이가 산다.",
          extensions: { sillytavern: { probability: 100 } },
          enabled: true,
          insertion_order: 50,
          position: "after_char",
        },
      ],
    },
    tags: ["일상", "#힐링", "서점"],
    creator: "카드장인",
    character_version: "1.2",
    extensions: {
      talkativeness: "0.5",
      sillytavern: { depth_prompt: { prompt: "{{char}}는 비를 좋아한다.", depth: 4, role: "system" } },
      risuai: { utilityBot: false, customScripts: [{ comment: "정규식", in: "ㅋ+", out: "ㅋㅋ", type: "editoutput" }] },
    },
  },
});

export const v3Card = () => ({
  spec: "chara_card_v3",
  spec_version: "3.0",
  data: {
    name: "하린",
    description: "{{char}}는 은하 탐사선 '새벽별호'의 항법 AI다.",
    personality: "",
    scenario: "{{user}}: 새벽별호의 함장\n\n항해 3년째, 미확인 신호가 잡혔다.",
    first_mes: "함장님, {{user}}님. 미확인 신호를 감지했습니다.",
    mes_example: "",
    creator_notes: "SF 탐사 롤플레이.",
    system_prompt: "",
    post_history_instructions: "",
    alternate_greetings: [],
    character_book: {
      extensions: {},
      entries: [{ keys: ["신호"], content: "@@depth 2\n신호는 13광년 밖에서 왔다.", extensions: {}, enabled: true, insertion_order: 1, use_regex: false }],
    },
    tags: ["SF"],
    creator: "",
    character_version: "",
    extensions: {
      chub: { full_path: "someone/harin", id: 42 },
      avatarforge: {
        scenario: { opponent: "새벽별호의 함장", situation: "항해 3년째, 미확인 신호가 잡혔다.", background: "" },
        category: "SF",
        voice: {
          id: "voice-1",
          name: "하린 목소리",
          refAudioPath: "/refs/harin.wav",
          promptText: "함장님, 좋은 아침입니다.",
          promptLang: "ko",
          params: { speedFactor: 1.1 },
        },
      },
    },
    nickname: "린",
    creator_notes_multilingual: { en: "A space exploration role-play.", ko: "SF 탐사 롤플레이." },
    source: ["https://example.com/cards/harin"],
    group_only_greetings: ["모두 모이셨군요. 브리핑을 시작하겠습니다."],
    assets: [{ type: "icon", uri: "ccdefault:", name: "main", ext: "png" }],
    creation_date: 1_700_000_000,
    modification_date: 1_710_000_000,
  },
});

export function portraitPng(width = 48, height = 32): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 120, b: 80 } } }).png().toBuffer();
}

export const base64Json = (value: unknown) => Buffer.from(JSON.stringify(value), "utf8").toString("base64");

export async function cardPng(chunks: TextChunk[]): Promise<Buffer> {
  return withTextChunks(await portraitPng(), chunks);
}

/** The DomainError `run` throws (sync or async), to check its reason. */
export async function domainErrorOf(run: () => unknown): Promise<DomainError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error("Expected a DomainError, but nothing was thrown.");
}

// ---------------------------------------------------------------------------------------------
// Cards as RisuAI and SillyTavern write them
// ---------------------------------------------------------------------------------------------

/** A small picture of one colour (each emotion its own, so they can be told apart). */
export function colourPng(index: number, size = 64): Promise<Buffer> {
  const hue = (index * 47) % 256;
  return sharp({ create: { width: size, height: size, channels: 3, background: { r: hue, g: 255 - hue, b: (index * 91) % 256 } } }).png().toBuffer();
}

export function colourJpeg(index: number, width = 96, height = 128): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 30, g: (index * 53) % 256, b: 160 } } }).jpeg().toBuffer();
}

/** RisuAI's emotion names, as its users name their sprites. */
export const RISU_EMOTIONS = [
  "neutral", "joy", "sadness", "anger", "surprise", "fear", "disgust", "love", "embarrassed", "smug",
  "sleepy", "thinking", "crying", "laughing", "pout", "wink", "blush", "shock", "relief", "determined",
  "curious", "bored", "nervous", "proud", "shy", "excited", "confused", "annoyed", "calm", "hopeful",
];

/** A lorebook as RisuAI exports it: decorators at the top of content, its own extensions per entry. */
export function risuLorebook(entries: number) {
  return {
    scan_depth: 5,
    token_budget: 2048,
    recursive_scanning: false,
    extensions: { risu_fullWordMatching: false },
    entries: Array.from({ length: entries }, (_, i) => ({
      keys: [`키워드${i}`, `keyword${i}`],
      content: i % 3 === 0 ? `@@depth 4\n@@role system\n@@match_full_word\n설정 ${i}: 첫 줄.\n둘째 줄.` : i % 3 === 1 ? `@@match_partial_word\n설정 ${i}.` : `설정 ${i}, 장식 없음.`,
      extensions: { risu_case_sensitive: false, risu_activationPercent: 100, risu_loreCache: null },
      enabled: true,
      insertion_order: 100 + i,
      constant: i === 0,
      selective: false,
      name: `항목 ${i}`,
      comment: `항목 ${i}`,
      case_sensitive: false,
      use_regex: false,
      mode: "normal",
    })),
  };
}

export interface RisuAsset {
  type: string;
  name: string;
  ext: string;
  bytes: Uint8Array;
}

/** A V3 card's data as RisuAI's createBaseV3 writes it (assets listed by the caller). */
export function risuCardData(name: string, assets: { type: string; uri: string; name: string; ext: string }[], lorebookEntries = 6) {
  return {
    name,
    description: "{{char}}는 작은 도서관의 사서다. 조용하지만 책 이야기에는 눈을 빛낸다.",
    personality: "차분함",
    scenario: "늦은 밤의 도서관.",
    first_mes: "*책을 덮으며* 어서 오세요, {{user}}.",
    mes_example: "<START>\n{{user}}: 안녕하세요\n{{char}}: 반가워요.",
    creator_notes: "RisuAI에서 만든 표정 스프라이트 캐릭터.",
    system_prompt: "",
    post_history_instructions: "",
    alternate_greetings: ["*등불을 켜며* 늦었네요."],
    character_book: risuLorebook(lorebookEntries),
    tags: ["도서관"],
    creator: "risu-user",
    character_version: "1.0",
    extensions: {
      risuai: {
        bias: [],
        viewScreen: "emotion",
        utilityBot: false,
        sdData: [],
        backgroundHTML: "",
        license: "",
        additionalText: "",
        virtualscript: "",
        largePortrait: false,
        lorePlus: false,
        inlayViewScreen: false,
        vits: {},
        lowLevelAccess: false,
        defaultVariables: "",
        prebuiltAssetCommand: "",
        prebuiltAssetExclude: [],
        prebuiltAssetStyle: "",
      },
      depth_prompt: { depth: 4, prompt: "" },
    },
    group_only_greetings: [],
    nickname: "",
    source: [],
    creation_date: 1_720_000_000,
    modification_date: 1_720_000_100,
    assets,
  };
}

/** RisuAI's module file: opaque to us (it holds the character's regex scripts and triggers). */
export const risuModuleBytes = () => Buffer.concat([Buffer.from([0x6f, 0x00]), Buffer.from(JSON.stringify({ type: "risuModule", module: { name: "모듈", regex: [{ in: "ㅋ+", out: "ㅋㅋ" }], trigger: [] } }))]);

/** A zip streamed the way RisuAI's CharXWriter writes it: fflate's Zip, each file deflated (level 0 by default) with a data descriptor. */
export function streamedZip(files: { path: string; bytes: Uint8Array; level?: 0 | 6 }[]): Buffer {
  const out: Uint8Array[] = [];
  const zip = new Zip((error, data) => {
    if (error) throw error;
    out.push(data);
  });
  for (const file of files) {
    const entry = new ZipDeflate(file.path, { level: file.level ?? 0 });
    zip.add(entry);
    entry.push(file.bytes, true);
  }
  zip.end();
  return Buffer.concat(out);
}

export interface RisuCharxOptions {
  name?: string;
  emotions?: number;
  backgrounds?: number;
  /** assets besides emotions and backgrounds (a user icon, a sound, other) */
  extra?: RisuAsset[];
  /** the icon's bytes; null: no icon at all */
  icon?: Uint8Array | null;
  withModule?: boolean;
  lorebookEntries?: number;
}

/**
 * A .charx as RisuAI exports it: the icon, every asset under assets/<type>/<kind>/<name>.<ext>
 * (data.assets names them embeded://), an x_meta/<name>.json for each, module.risum, then
 * card.json, all deflated with data descriptors.
 */
export async function risuCharx(options: RisuCharxOptions = {}): Promise<{ charx: Buffer; assets: RisuAsset[]; card: ReturnType<typeof risuCardData> }> {
  const emotions = await Promise.all(RISU_EMOTIONS.slice(0, options.emotions ?? 20).map(async (name, i) => ({ type: "emotion", name, ext: "png", bytes: await colourPng(i) })));
  const backgrounds = await Promise.all(
    Array.from({ length: options.backgrounds ?? 2 }, async (_, i) => ({ type: "background", name: `배경${i + 1}`, ext: "jpg", bytes: await colourJpeg(i, 320, 180) })),
  );
  const icon = options.icon === undefined ? await portraitPng(90, 120) : options.icon;
  const assets: RisuAsset[] = [...emotions, ...backgrounds, ...(options.extra ?? [])];
  const folder = (ext: string) => (["png", "jpg", "jpeg", "webp", "gif"].includes(ext) ? "image" : ["mp3", "ogg", "wav"].includes(ext) ? "audio" : "other");
  const typeFolder = (type: string) => (["emotion", "background", "user_icon", "icon"].includes(type) ? type : "other");
  const files: { path: string; bytes: Uint8Array; level?: 0 | 6 }[] = [];
  const listed: { type: string; uri: string; name: string; ext: string }[] = [];
  const put = (asset: RisuAsset) => {
    const path = `assets/${typeFolder(asset.type)}/${folder(asset.ext)}/${asset.name}.${asset.ext}`;
    files.push({ path: `x_meta/${asset.name}.json`, bytes: Buffer.from(JSON.stringify({ type: asset.ext === "png" ? "PNG" : "UNKNOWN" })), level: 6 });
    files.push({ path, bytes: asset.bytes });
    listed.push({ type: asset.type, uri: `embeded://${path}`, name: asset.name, ext: asset.ext });
  };
  for (const asset of assets) put(asset);
  if (icon) put({ type: "icon", name: "main", ext: "png", bytes: icon });
  if (options.withModule ?? true) files.push({ path: "module.risum", bytes: risuModuleBytes() });
  const card = risuCardData(options.name ?? "등불 사서", listed, options.lorebookEntries);
  files.push({ path: "card.json", bytes: Buffer.from(JSON.stringify({ spec: "chara_card_v3", spec_version: "3.0", data: card }, null, 4)) });
  return { charx: streamedZip(files), assets, card };
}

/** RisuAI's CHARX-JPEG: the picture, then the same zip (its offsets counted from the zip's own start). */
export async function risuCharxJpeg(options: RisuCharxOptions = {}) {
  const jpeg = await colourJpeg(7, 120, 160);
  const built = await risuCharx(options);
  return { ...built, jpeg, file: Buffer.concat([jpeg, built.charx]) };
}

/**
 * A PNG card as RisuAI exports it (V3): the portrait with a `ccv3` chunk whose assets name
 * `__asset:N`, each file in a `chara-ext-asset_:N` chunk (the portrait itself is `ccdefault:`).
 */
export async function risuPng(options: { emotions?: number; name?: string } = {}) {
  const emotions = await Promise.all(RISU_EMOTIONS.slice(0, options.emotions ?? 8).map(async (name, i) => ({ type: "emotion", name, ext: "png", bytes: await colourPng(i + 3) })));
  const listed = [
    ...emotions.map((e, i) => ({ type: e.type, uri: `__asset:${i + 1}`, name: e.name, ext: e.ext })),
    { type: "icon", uri: "ccdefault:", name: "main", ext: "png" },
  ];
  const card = { spec: "chara_card_v3", spec_version: "3.0", data: risuCardData(options.name ?? "표정 많은 사서", listed) };
  const chunks: TextChunk[] = [
    ...emotions.map((e, i) => ({ keyword: `chara-ext-asset_:${i + 1}`, text: Buffer.from(e.bytes).toString("base64") })),
    { keyword: "ccv3", text: base64Json(card) },
  ];
  return { png: withTextChunks(await portraitPng(80, 100), chunks), emotions, card };
}

/** An older RisuAI PNG (V2): emotions in `extensions.risuai.emotions` as [name, "__asset:N"]. */
export async function risuV2Png(emotionCount = 3) {
  const emotions = await Promise.all(RISU_EMOTIONS.slice(0, emotionCount).map(async (name, i) => ({ name, bytes: await colourPng(i + 11) })));
  const base = fullV2Card();
  const card = {
    ...base,
    data: {
      ...base.data,
      extensions: {
        ...base.data.extensions,
        risuai: { ...base.data.extensions.risuai, emotions: emotions.map((e, i) => [e.name, `__asset:${i + 1}`]), additionalAssets: [], vits: { "model.onnx": `__asset:${emotionCount + 1}` } },
      },
    },
  };
  const chunks: TextChunk[] = [
    { keyword: "chara", text: base64Json(card) },
    ...emotions.map((e, i) => ({ keyword: `chara-ext-asset_:${i + 1}`, text: e.bytes.toString("base64") })),
    { keyword: `chara-ext-asset_:${emotionCount + 1}`, text: Buffer.from("onnx model bytes").toString("base64") },
  ];
  return { png: withTextChunks(await portraitPng(), chunks), emotions };
}

/** Text of about `length` characters, Korean and English mixed, in paragraphs, as long real descriptions read. */
export function longText(length: number, seed = "설정"): string {
  const paragraph = `${seed}: {{char}}는 오래된 항구 도시에서 자랐다. The harbour taught {{char}} patience and the sea's moods. `;
  let text = "";
  for (let i = 0; text.length < length; i++) text += `${paragraph}(${i})\n\n`;
  return text.slice(0, length).trim();
}

/** A SillyTavern V2 PNG (tEXt `chara`) of a large real card: a 20,000-character description, 200 lorebook entries, 40 alternate greetings. */
export function sillyTavernV2Card(options: { descriptionChars?: number; entries?: number; greetings?: number } = {}) {
  const base = fullV2Card();
  const data = {
    ...base.data,
    name: "세라피나",
    description: longText(options.descriptionChars ?? 20_000),
    first_mes: longText(6_000, "첫 인사"),
    mes_example: longText(9_000, "예시"),
    alternate_greetings: Array.from({ length: options.greetings ?? 40 }, (_, i) => longText(1_500, `인사 ${i + 1}`)),
    character_book: {
      name: "세라피나의 숲",
      scan_depth: 4,
      token_budget: 2048,
      recursive_scanning: true,
      extensions: {},
      entries: Array.from({ length: options.entries ?? 200 }, (_, i) => ({
        id: i,
        keys: [`숲${i}`, `forest${i}`],
        secondary_keys: [],
        comment: `숲의 기록 ${i}`,
        content: longText(600, `기록 ${i}`),
        constant: false,
        selective: true,
        insertion_order: 100,
        enabled: true,
        position: "before_char",
        use_regex: true,
        extensions: { position: 0, exclude_recursion: false, display_index: i, probability: 100, useProbability: true, depth: 4, selectiveLogic: 0, group: "", match_whole_words: null, role: 0 },
      })),
    },
  };
  return { spec: "chara_card_v2", spec_version: "2.0", name: data.name, description: data.description, personality: data.personality, scenario: data.scenario, first_mes: data.first_mes, mes_example: data.mes_example, data };
}

export async function sillyTavernV2Png(options: Parameters<typeof sillyTavernV2Card>[0] = {}) {
  const card = sillyTavernV2Card(options);
  return { png: await cardPng([{ keyword: "chara", text: base64Json(card) }]), card };
}
