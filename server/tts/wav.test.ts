import { describe, expect, it } from "vitest";
import { isSilent, joinWavs, readWav, resample, writeWav } from "./wav";

const format = { channels: 1, sampleRate: 32000, bitsPerSample: 16 };
const pcm = (samples: number[]) => Buffer.from(new Int16Array(samples).buffer);

describe("WAV files", () => {
  it("reads back what it writes", () => {
    const data = pcm([1, -2, 3, -4]);
    expect(readWav(writeWav(format, data))).toEqual({ ...format, data });
  });

  it("reads a streamed file whose header says its data has no size", () => {
    const file = writeWav(format, pcm([5, 6, 7]));
    file.writeUInt32LE(0, 40);
    expect(readWav(file)?.data).toEqual(pcm([5, 6, 7]));
  });

  it("refuses what is not PCM WAV", () => {
    expect(readWav(Buffer.from("OggS not a wav at all"))).toBeNull();
    const float = writeWav(format, pcm([1]));
    float.writeUInt16LE(3, 20);
    expect(readWav(float)).toBeNull();
  });

  it("joins files of one format with silence between them", () => {
    const joined = joinWavs([writeWav(format, pcm([1, 2])), writeWav(format, pcm([3]))], 1000 / 32000 * 2);
    expect(readWav(joined!)?.data).toEqual(pcm([1, 2, 0, 0, 3]));
    expect(joinWavs([])).toBeNull();
    expect(joinWavs([writeWav(format, pcm([1])), Buffer.from("OggS")])).toBeNull();
    expect(joinWavs([writeWav(format, pcm([1])), writeWav({ ...format, channels: 2 }, pcm([1, 1]))])).toBeNull();
  });

  it("joins a 16 kHz clip (GPT-SoVITS's silence) with 32 kHz ones at 32 kHz, the gap and lengths kept in time", () => {
    const at32 = writeWav(format, pcm(Array.from({ length: 3200 }, () => 1000))); // 0.1 s
    const at16 = writeWav({ ...format, sampleRate: 16000 }, Buffer.alloc(16000 * 2)); // 1 s of silence
    const joined = readWav(joinWavs([at16, at32], 50)!)!;
    expect(joined).toMatchObject({ sampleRate: 32000, channels: 1, bitsPerSample: 16 });
    // 1 s + 0.05 s gap + 0.1 s, all at 32 kHz.
    expect(joined.data.length / 2).toBe(32000 + 1600 + 3200);
    expect(joined.data.readInt16LE(joined.data.length - 2)).toBe(1000);
  });

  it("joins 24 kHz and 48 kHz clips at 48 kHz, interpolating between the lower rate's samples", () => {
    const at24 = writeWav({ ...format, sampleRate: 24000 }, pcm([0, 100, 200, 300]));
    const at48 = writeWav({ ...format, sampleRate: 48000 }, pcm([7, 7]));
    const joined = readWav(joinWavs([at24, at48], 0)!)!;
    expect(joined.sampleRate).toBe(48000);
    expect(joined.data).toEqual(pcm([0, 50, 100, 150, 200, 250, 300, 300, 7, 7]));
  });

  it("resamples down as well as up, and leaves a clip at its own rate as it is", () => {
    const wav = readWav(writeWav(format, pcm([0, 10, 20, 30])))!;
    expect(resample(wav, 16000).data).toEqual(pcm([0, 20]));
    expect(resample(wav, 32000)).toBe(wav);
  });

  it("tells a clip of nothing but zeros from one with any sound", () => {
    expect(isSilent(readWav(writeWav({ ...format, sampleRate: 16000 }, Buffer.alloc(32000)))!)).toBe(true);
    expect(isSilent(readWav(writeWav(format, pcm([0, 0, 1, 0])))!)).toBe(false);
    expect(isSilent(readWav(writeWav(format, pcm([0, -1])))!)).toBe(false);
  });
});
