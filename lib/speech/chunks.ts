import { splitSentences } from "./sentences";

/** Text per synthesis: short enough that the first audio comes quickly, long enough to sound natural. */
export const CHUNK_CHARS = 300;

/**
 * Sentences grouped into pieces of at most CHUNK_CHARS (a longer sentence stays whole). The
 * player and the download cut a reply the same way, so they share the cached audio.
 */
export function speechChunks(text: string): string[] {
  const chunks: string[] = [];
  for (const sentence of splitSentences(text)) {
    const last = chunks.at(-1);
    if (last !== undefined && last.length + 1 + sentence.length <= CHUNK_CHARS) chunks[chunks.length - 1] = `${last} ${sentence}`;
    else chunks.push(sentence);
  }
  return chunks;
}
