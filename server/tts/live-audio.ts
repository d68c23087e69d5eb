import "server-only";
import { writeWav, type WavFormat } from "./wav";

/**
 * Clips being synthesised in a streaming mode, by content key, while their audio arrives: the
 * audio route serves one as it grows (a WAV header, then the samples so far, then the rest as it
 * comes), so a sentence starts playing before it is fully synthesised. Once complete, the clip is
 * in the audio cache and leaves this registry; a failed one ends its readers' streams with an error.
 */
export class LiveClip {
  format: WavFormat | null = null;
  private readonly chunks: Buffer[] = [];
  private state: "open" | "done" | "failed" = "open";
  private readonly wake = new Set<() => void>();

  begin(format: WavFormat) {
    this.format = format;
    this.notify();
  }

  append(pcm: Buffer) {
    this.chunks.push(pcm);
    this.notify();
  }

  /** The clip is complete (and stored). */
  finish() {
    this.state = "done";
    this.notify();
  }

  /** The synthesis failed: readers' streams end with an error. */
  fail() {
    this.state = "failed";
    this.notify();
  }

  private notify() {
    for (const wake of [...this.wake]) wake();
  }

  /**
   * The clip as a WAV stream: a header (its sizes unknown: as large as a WAV may say), then every
   * sample from the first, as they arrive. Ends when the clip is complete; throws if it failed.
   */
  async *read(signal?: AbortSignal): AsyncGenerator<Buffer> {
    let sent = 0;
    let headerSent = false;
    for (;;) {
      if (this.state === "failed") throw new Error("the synthesis failed");
      if (!headerSent && this.format) {
        const header = writeWav(this.format, Buffer.alloc(0));
        // A size the reader can't reach: "until the stream ends".
        header.writeUInt32LE(0xffffffff, 4);
        header.writeUInt32LE(0xffffffff - 36, 40);
        yield header;
        headerSent = true;
      }
      if (headerSent) while (sent < this.chunks.length) yield this.chunks[sent++]!;
      if (this.state === "done" && headerSent) return;
      if (this.state === "done") throw new Error("the clip ended without audio");
      if (signal?.aborted) return;
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.wake.delete(wake);
          signal?.removeEventListener("abort", wake);
          resolve();
        };
        this.wake.add(wake);
        signal?.addEventListener("abort", wake, { once: true });
      });
    }
  }
}

const holder = globalThis as unknown as { afLiveClips?: Map<string, LiveClip> };
/** Live clips of this process by content key. */
export const liveClips: Map<string, LiveClip> = (holder.afLiveClips ??= new Map());
