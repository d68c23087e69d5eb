import { z } from "zod";
import { hasForbiddenCharacters } from "@/lib/schemas";

/*
 * Chats you can take with you: SillyTavern's JSONL chat format (export and import) and a readable
 * Markdown transcript (export). Pure conversions; the database side is in ./transfer.ts.
 *
 * SillyTavern JSONL: the first line is a header
 *   {"user_name", "character_name", "create_date", "chat_metadata": {...}}
 * then one line per message
 *   {"name", "is_user", "is_system", "send_date", "mes", "swipes"?, "swipe_id"?, "swipe_info"?, "extra"}
 * A message with alternatives lists all of them in `swipes`, `mes` being the one at `swipe_id`.
 * `is_system` messages are hidden from the model (here: role "system", which no prompt includes).
 */

/** What a chat looks like on its way in or out. */
export interface PortableMessage {
  role: "user" | "assistant" | "system";
  /** the text of the active alternative */
  content: string;
  createdAt: Date;
  /** every alternative in order (the active one included), when there is more than one */
  swipes?: string[];
  /** the index of the active alternative in `swipes` */
  swipeId?: number;
}

export interface PortableChat {
  userName: string;
  characterName: string;
  title?: string | null;
  createdAt: Date;
  messages: PortableMessage[];
}

export const IMPORT_LIMITS = {
  /** the whole file, in bytes (UTF-8) */
  bytes: 5 * 1024 * 1024,
  messages: 5_000,
  /** characters of one message (or one alternative) */
  messageChars: 32_000,
  swipes: 50,
  name: 200,
} as const;

export class PortabilityError extends Error {
  constructor(
    readonly code: "chat_file_empty" | "chat_file_too_large" | "chat_file_invalid" | "chat_file_too_many_messages",
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// Dates as SillyTavern writes them
// ---------------------------------------------------------------------------------------------

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** SillyTavern's `humanizedDateTime()`: "2024-05-10@14h30m12s" (local time of the writer; here UTC). */
export function humanizedDateTime(date: Date) {
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}@${pad(date.getUTCHours())}h${pad(date.getUTCMinutes())}m${pad(date.getUTCSeconds())}s`;
}

/** Years 1 to 9999: what ISO 8601 writes in four digits, and what the database stores (it refuses year 0, negative years and "+020000-…"). */
const EARLIEST = new Date("0001-01-01T00:00:00.000Z").getTime();
const LATEST = new Date("9999-12-31T23:59:59.999Z").getTime();

const inRange = (date: Date) => {
  const time = date.getTime();
  return Number.isFinite(time) && time >= EARLIEST && time <= LATEST ? date : null;
};

/**
 * A `send_date`/`create_date` as any SillyTavern version wrote it: epoch milliseconds, ISO 8601,
 * "May 10, 2024 2:30pm", or "2024-05-10@14h30m12s". Null when it can't be read or lies outside
 * years 1–9999 (see `fromSillyTavernJsonl` for what the import uses instead).
 */
export function parseSillyTavernDate(value: unknown): Date | null {
  if (typeof value === "number") return Number.isFinite(value) && Math.abs(value) < 8.64e15 ? inRange(new Date(value)) : null;
  if (typeof value !== "string" || !value.trim()) return null;
  const text = value.trim();
  const humanized = /^(\d{4})-(\d{1,2})-(\d{1,2})\s*@\s*(\d{1,2})h\s*(\d{1,2})m\s*(\d{1,2})s(?:\s*(\d{1,3})ms)?$/.exec(text);
  if (humanized) {
    const [, y, mo, d, h, mi, s, ms] = humanized.map(Number) as number[];
    return inRange(new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!, ms || 0)));
  }
  // "May 10, 2024 2:30pm" → "May 10, 2024 2:30 pm", which Date reads.
  return inRange(new Date(text.replace(/(\d)(am|pm)$/i, "$1 $2")));
}

/** A day's leeway for a writer whose clock ran ahead. */
const CLOCK_SKEW_MS = 86_400_000;

/** A date a message can have been written at: read, from 1970 on, and not later than now (give or take a clock). */
function plausibleDate(value: unknown, now: Date): Date | null {
  const date = parseSillyTavernDate(value);
  return date && date.getTime() >= 0 && date.getTime() <= now.getTime() + CLOCK_SKEW_MS ? date : null;
}

// ---------------------------------------------------------------------------------------------
// Export
// ---------------------------------------------------------------------------------------------

/** The chat as SillyTavern JSONL (one JSON object a line, `\n` between lines). */
export function toSillyTavernJsonl(chat: PortableChat): string {
  const header = {
    user_name: chat.userName,
    character_name: chat.characterName,
    create_date: humanizedDateTime(chat.createdAt),
    chat_metadata: { ...(chat.title ? { title: chat.title } : {}) },
  };
  const lines = chat.messages.map((m) => {
    const swipes = m.swipes && m.swipes.length > 1 ? m.swipes : undefined;
    return {
      name: m.role === "user" ? chat.userName : m.role === "assistant" ? chat.characterName : "System",
      is_user: m.role === "user",
      is_system: m.role === "system",
      send_date: m.createdAt.toISOString(),
      mes: m.content,
      ...(swipes ? { swipes, swipe_id: Math.min(Math.max(m.swipeId ?? 0, 0), swipes.length - 1) } : {}),
      extra: {},
    };
  });
  return [header, ...lines].map((line) => JSON.stringify(line)).join("\n") + "\n";
}

/** Markdown special characters of a name, escaped so a name can't restyle the transcript. */
const escapeMarkdown = (text: string) => text.replace(/([\\`*_[\]#<>|])/g, "\\$1");

/** A readable transcript: title, character, date, then `**Name**: text` paragraphs. */
export function toMarkdown(chat: PortableChat, labels: { character: string; date: string } = { character: "Character", date: "Date" }): string {
  const title = chat.title?.trim() || chat.characterName;
  const lines = [
    `# ${escapeMarkdown(title)}`,
    "",
    `- ${labels.character}: ${escapeMarkdown(chat.characterName)}`,
    `- ${labels.date}: ${chat.createdAt.toISOString().slice(0, 16).replace("T", " ")} UTC`,
    "",
  ];
  for (const m of chat.messages) {
    const name = m.role === "user" ? chat.userName : m.role === "assistant" ? chat.characterName : "System";
    const text = m.role === "system" ? `*${m.content.trim()}*` : m.content.trim();
    lines.push(`**${escapeMarkdown(name)}**: ${text}`, "");
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Import
// ---------------------------------------------------------------------------------------------

const cleanText = (max: number) =>
  z
    .string()
    .max(max, `At most ${max} characters.`)
    .refine((v) => !hasForbiddenCharacters(v), "This text contains characters that are not allowed (control characters or broken Unicode).");

const dateValue = z.union([z.string().max(100), z.number()]).nullish();

const headerSchema = z.object({
  user_name: cleanText(IMPORT_LIMITS.name).optional(),
  character_name: cleanText(IMPORT_LIMITS.name).optional(),
  create_date: dateValue,
  chat_metadata: z.record(z.string().max(200), z.unknown()).optional(),
});

const messageSchema = z.object({
  name: cleanText(IMPORT_LIMITS.name).optional(),
  is_user: z.boolean(),
  is_system: z.boolean().optional(),
  send_date: dateValue,
  mes: cleanText(IMPORT_LIMITS.messageChars),
  swipes: z.array(cleanText(IMPORT_LIMITS.messageChars)).max(IMPORT_LIMITS.swipes).optional(),
  swipe_id: z.number().int().min(0).max(IMPORT_LIMITS.swipes).optional(),
  extra: z.record(z.string().max(200), z.unknown()).optional(),
});

function parseLine(text: string, lineNumber: number): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new PortabilityError("chat_file_invalid", `Line ${lineNumber} is not valid JSON.`, lineNumber);
  }
}

function checked<T>(schema: z.ZodType<T>, value: unknown, lineNumber: number): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.map(String).join(".");
  throw new PortabilityError("chat_file_invalid", `Line ${lineNumber}${field ? ` (${field})` : ""}: ${issue?.message ?? "not valid"}`, lineNumber);
}

/**
 * A SillyTavern JSONL chat, checked line by line: every field is validated, and anything wrong —
 * a line that isn't JSON, a field of the wrong type, a control character, too many messages —
 * is refused with the line it is on. Nothing is returned half-read.
 */
export function fromSillyTavernJsonl(text: string, now = new Date()): PortableChat {
  if (Buffer.byteLength(text, "utf8") > IMPORT_LIMITS.bytes) {
    throw new PortabilityError("chat_file_too_large", `The chat file is larger than ${IMPORT_LIMITS.bytes / 1024 / 1024} MB.`);
  }
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const numbered = lines.map((line, i) => ({ line: line.trim(), number: i + 1 })).filter((l) => l.line !== "");
  if (numbered.length === 0) throw new PortabilityError("chat_file_empty", "The chat file is empty.");
  if (numbered.length - 1 > IMPORT_LIMITS.messages) {
    throw new PortabilityError("chat_file_too_many_messages", `A chat file can hold at most ${IMPORT_LIMITS.messages} messages.`);
  }
  const [first, ...rest] = numbered;
  const headerValue = parseLine(first!.line, first!.number);
  // A file without a header (just messages) is read too: its first line is then a message.
  const hasHeader = typeof headerValue === "object" && headerValue !== null && !Array.isArray(headerValue) && !("mes" in headerValue);
  const header = hasHeader ? checked(headerSchema, headerValue, first!.number) : {};
  const body = hasHeader ? rest : numbered;
  const read = body.map(({ line, number }) => checked(messageSchema, parseLine(line, number), number));
  // A date that can't be used (unreadable, before 1970, after now, out of the database's range)
  // doesn't refuse the file: the chat's date is its own, or its first message's, or now; a
  // message takes the date of the one before it, so the times still read in order.
  const chatDate = plausibleDate(header.create_date, now) ?? read.map((m) => plausibleDate(m.send_date, now)).find((d) => d !== null) ?? now;
  let previous = chatDate;
  const messages: PortableMessage[] = read.map((m) => {
    const role = m.is_system ? "system" : m.is_user ? "user" : "assistant";
    const createdAt = plausibleDate(m.send_date, now) ?? previous;
    previous = createdAt;
    const swipes = m.swipes?.filter((s) => s.trim() !== "");
    if (swipes && swipes.length > 1 && role === "assistant") {
      const swipeId = Math.min(m.swipe_id ?? 0, swipes.length - 1);
      return { role, content: swipes[swipeId] ?? m.mes, createdAt, swipes, swipeId };
    }
    return { role, content: m.mes, createdAt };
  });
  const usable = messages.filter((m) => m.content.trim() !== "");
  if (usable.length === 0) throw new PortabilityError("chat_file_empty", "The chat file has no messages.");
  const title = header.chat_metadata?.title;
  return {
    userName: header.user_name?.trim() || "User",
    characterName: header.character_name?.trim() || "",
    title: typeof title === "string" && title.trim() && title.length <= 120 && !hasForbiddenCharacters(title) ? title.trim() : null,
    createdAt: chatDate,
    messages: usable,
  };
}
