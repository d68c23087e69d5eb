import { describe, expect, it } from "vitest";
import { joinWavs, readWav, writeWav } from "./wav";

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

  it("joins files of one format with silence between them, and refuses mixed formats", () => {
    const joined = joinWavs([writeWav(format, pcm([1, 2])), writeWav(format, pcm([3]))], 1000 / 32000 * 2);
    expect(readWav(joined!)?.data).toEqual(pcm([1, 2, 0, 0, 3]));
    expect(joinWavs([writeWav(format, pcm([1])), writeWav({ ...format, sampleRate: 24000 }, pcm([1]))])).toBeNull();
    expect(joinWavs([])).toBeNull();
  });
});
