/** The format of a PCM WAV file and where its samples are. */
export interface WavInfo {
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  data: Buffer;
}

/** Reads a RIFF/WAVE file's `fmt ` and `data` chunks (PCM only); null when it isn't one. */
export function readWav(bytes: Buffer): WavInfo | null {
  if (bytes.length < 12 || bytes.toString("latin1", 0, 4) !== "RIFF" || bytes.toString("latin1", 8, 12) !== "WAVE") return null;
  let format: Omit<WavInfo, "data"> | null = null;
  for (let at = 12; at + 8 <= bytes.length; ) {
    const id = bytes.toString("latin1", at, at + 4);
    const size = bytes.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === "fmt " && size >= 16) {
      if (bytes.readUInt16LE(body) !== 1) return null; // not PCM
      format = { channels: bytes.readUInt16LE(body + 2), sampleRate: bytes.readUInt32LE(body + 4), bitsPerSample: bytes.readUInt16LE(body + 14) };
    } else if (id === "data" && format) {
      // A streamed file says 0 (or too much): its samples run to the end.
      const end = size === 0 || body + size > bytes.length ? bytes.length : body + size;
      return { ...format, data: bytes.subarray(body, end) };
    }
    at = body + size + (size % 2);
  }
  return null;
}

/** One WAV file of PCM samples. */
export function writeWav(format: Omit<WavInfo, "data">, data: Buffer): Buffer {
  const header = Buffer.alloc(44);
  const blockAlign = (format.channels * format.bitsPerSample) / 8;
  header.write("RIFF", 0, "latin1");
  header.writeUInt32LE(36 + data.length, 4);
  header.write("WAVE", 8, "latin1");
  header.write("fmt ", 12, "latin1");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(format.channels, 22);
  header.writeUInt32LE(format.sampleRate, 24);
  header.writeUInt32LE(format.sampleRate * blockAlign, 28);
  header.writeUInt16LE(blockAlign, 32);
  header.writeUInt16LE(format.bitsPerSample, 34);
  header.write("data", 36, "latin1");
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/**
 * Joins WAV files into one, with `gapMs` of silence between them. They must share one format
 * (GPT-SoVITS speaks every sentence of a voice at the same rate); null otherwise.
 */
export function joinWavs(files: Buffer[], gapMs = 300): Buffer | null {
  const wavs = files.map(readWav);
  const first = wavs[0];
  if (!first || wavs.some((w) => !w || w.channels !== first.channels || w.sampleRate !== first.sampleRate || w.bitsPerSample !== first.bitsPerSample)) {
    return null;
  }
  const blockAlign = (first.channels * first.bitsPerSample) / 8;
  const gap = Buffer.alloc(Math.round((first.sampleRate * gapMs) / 1000) * blockAlign);
  const parts = wavs.flatMap((w, i) => (i === 0 ? [w!.data] : [gap, w!.data]));
  return writeWav(first, Buffer.concat(parts));
}
