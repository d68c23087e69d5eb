/** The format of PCM samples. */
export interface WavFormat {
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
}

/** The format of a PCM WAV file and where its samples are. */
export interface WavInfo extends WavFormat {
  data: Buffer;
}

/**
 * The start of a RIFF/WAVE file up to its samples: the `fmt ` chunk's format and where the `data`
 * chunk's samples begin (with its declared size: a streamed file says 0). "incomplete" while more
 * bytes are needed to tell; null when it isn't a PCM WAV file.
 */
export function readWavHeader(bytes: Buffer): { format: WavFormat; dataOffset: number; dataSize: number } | "incomplete" | null {
  if (bytes.length < 12) return "RIFF".startsWith(bytes.toString("latin1", 0, Math.min(4, bytes.length))) ? "incomplete" : null;
  if (bytes.toString("latin1", 0, 4) !== "RIFF" || bytes.toString("latin1", 8, 12) !== "WAVE") return null;
  let format: WavFormat | null = null;
  for (let at = 12; ; ) {
    if (at + 8 > bytes.length) return "incomplete";
    const id = bytes.toString("latin1", at, at + 4);
    const size = bytes.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === "data") return format ? { format, dataOffset: body, dataSize: size } : null;
    if (body + size > bytes.length) return "incomplete";
    if (id === "fmt " && size >= 16) {
      if (bytes.readUInt16LE(body) !== 1) return null; // not PCM
      format = { channels: bytes.readUInt16LE(body + 2), sampleRate: bytes.readUInt32LE(body + 4), bitsPerSample: bytes.readUInt16LE(body + 14) };
    }
    at = body + size + (size % 2);
  }
}

/** Reads a RIFF/WAVE file's `fmt ` and `data` chunks (PCM only); null when it isn't one. */
export function readWav(bytes: Buffer): WavInfo | null {
  const header = readWavHeader(bytes);
  if (header === null || header === "incomplete") return null;
  const { format, dataOffset, dataSize } = header;
  // A streamed file says 0 (or too much): its samples run to the end.
  const end = dataSize === 0 || dataOffset + dataSize > bytes.length ? bytes.length : dataOffset + dataSize;
  return { ...format, data: bytes.subarray(dataOffset, end) };
}

/** One WAV file of PCM samples. */
export function writeWav(format: WavFormat, data: Buffer): Buffer {
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

/** True when every sample is zero (GPT-SoVITS's answer to a failed inference is such a clip). */
export function isSilent(wav: WavInfo): boolean {
  return wav.data.every((byte) => byte === 0);
}

/**
 * The samples at another rate, by linear interpolation between neighbouring samples (16-bit PCM;
 * each channel on its own). Plain speech needs no better filter: the clips joined here are
 * GPT-SoVITS's 16, 24, 32 or 48 kHz, and the rare odd one out is a short sentence.
 */
export function resample(wav: WavInfo, sampleRate: number): WavInfo {
  if (wav.sampleRate === sampleRate) return wav;
  const { channels } = wav;
  const frames = Math.floor(wav.data.length / (2 * channels));
  const outFrames = Math.round((frames * sampleRate) / wav.sampleRate);
  const out = Buffer.alloc(outFrames * 2 * channels);
  const sample = (frame: number, channel: number) => wav.data.readInt16LE((Math.min(frame, frames - 1) * channels + channel) * 2);
  for (let i = 0; i < outFrames; i += 1) {
    const at = (i * wav.sampleRate) / sampleRate;
    const before = Math.floor(at);
    const weight = at - before;
    for (let channel = 0; channel < channels; channel += 1) {
      const value = sample(before, channel) * (1 - weight) + sample(before + 1, channel) * weight;
      out.writeInt16LE(Math.round(value), (i * channels + channel) * 2);
    }
  }
  return { ...wav, sampleRate, data: out };
}

/**
 * Joins WAV files into one, with `gapMs` of silence between them. A reply's clips normally share
 * one format, but not always (GPT-SoVITS answers text with nothing to say with 16 kHz silence, and
 * a voice server switched to another model version speaks at another rate): clips at a lower rate
 * are resampled to the highest. Null when a file isn't PCM WAV, or channels or sample sizes differ.
 */
export function joinWavs(files: Buffer[], gapMs = 300): Buffer | null {
  const read = files.map(readWav);
  const first = read[0];
  if (!first || read.some((w) => !w || w.channels !== first.channels || w.bitsPerSample !== first.bitsPerSample)) return null;
  let wavs = read as WavInfo[];
  const sampleRate = Math.max(...wavs.map((w) => w.sampleRate));
  if (wavs.some((w) => w.sampleRate !== sampleRate)) {
    if (first.bitsPerSample !== 16) return null;
    wavs = wavs.map((w) => resample(w, sampleRate));
  }
  const blockAlign = (first.channels * first.bitsPerSample) / 8;
  const gap = Buffer.alloc(Math.round((sampleRate * gapMs) / 1000) * blockAlign);
  const parts = wavs.flatMap((w, i) => (i === 0 ? [w.data] : [gap, w.data]));
  return writeWav({ channels: first.channels, sampleRate, bitsPerSample: first.bitsPerSample }, Buffer.concat(parts));
}
