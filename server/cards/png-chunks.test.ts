import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { crc32, encodeChunk, encodePng, readChunks, readTextChunks, withTextChunks, type PngChunk } from "./png-chunks";
import { domainErrorOf, portraitPng } from "./test-cards";

const latinText = (keyword: string, text: string): PngChunk => ({
  type: "tEXt",
  data: Buffer.from(`${keyword}\0${text}`, "latin1"),
});

const internationalText = (keyword: string, text: string, compressed = false): PngChunk => ({
  type: "iTXt",
  data: Buffer.concat([Buffer.from(`${keyword}\0`, "latin1"), Buffer.from([compressed ? 1 : 0, 0]), Buffer.from("ko\0\0", "latin1"), Buffer.from(text, "utf8")]),
});

function insertBeforeEnd(png: Buffer, ...extra: PngChunk[]): Buffer {
  const chunks = readChunks(png);
  return encodePng([...chunks.slice(0, -1), ...extra, ...chunks.slice(-1)]);
}

async function expectMalformed(png: Buffer) {
  const error = await domainErrorOf(() => readChunks(png));
  expect(error.params.reason).toBe("card_malformed_png");
}

describe("crc32", () => {
  it("matches the standard check value", () => {
    expect(crc32(Buffer.from("123456789"))).toBe(0xcbf43926);
  });

  it("treats several parts as one run of bytes", () => {
    expect(crc32(Buffer.from("IEND"), Buffer.alloc(0))).toBe(0xae426082);
    expect(crc32(Buffer.from("1234"), Buffer.from("56789"))).toBe(0xcbf43926);
  });
});

describe("encodeChunk", () => {
  it("writes length, type, data and CRC", () => {
    const chunk = encodeChunk({ type: "tEXt", data: Buffer.from("a\0b", "latin1") });
    expect(chunk.readUInt32BE(0)).toBe(3);
    expect(chunk.toString("latin1", 4, 11)).toBe("tEXta\0b");
    expect(chunk.readUInt32BE(11)).toBe(crc32(Buffer.from("tEXta\0b", "latin1")));
  });
});

describe("readChunks", () => {
  it("reads a PNG written by sharp from IHDR to IEND", async () => {
    const chunks = readChunks(await portraitPng());
    expect(chunks[0]?.type).toBe("IHDR");
    expect(chunks.at(-1)?.type).toBe("IEND");
    expect(chunks.some((chunk) => chunk.type === "IDAT")).toBe(true);
  });

  it("round-trips through encodePng byte for byte", async () => {
    const png = await portraitPng();
    expect(encodePng(readChunks(png)).equals(png)).toBe(true);
  });

  it("rejects a wrong signature, a bad CRC, a cut-off chunk, a missing IEND and a missing IHDR", async () => {
    const png = await portraitPng();
    const badSignature = Buffer.from(png);
    badSignature[1] = 0x51;
    const badCrc = Buffer.from(png);
    badCrc.writeUInt8(badCrc.readUInt8(29) ^ 0x01, 29); // the last byte of IHDR's CRC
    const chunks = readChunks(png);

    await expectMalformed(badSignature);
    await expectMalformed(badCrc);
    await expectMalformed(png.subarray(0, png.length - 6));
    await expectMalformed(encodePng(chunks.slice(0, -1)));
    await expectMalformed(encodePng(chunks.slice(1)));
  });

  it("rejects a chunk length that runs past the end of the file", async () => {
    const png = Buffer.from(await portraitPng());
    png.writeUInt32BE(0xffffffff, 8);
    await expectMalformed(png);
  });
});

describe("readTextChunks", () => {
  it("reads tEXt as Latin-1 and uncompressed iTXt as UTF-8, skipping compressed iTXt", async () => {
    const png = insertBeforeEnd(
      await portraitPng(),
      latinText("Comment", "caf\xe9"),
      internationalText("Title", "서연의 초상"),
      internationalText("Packed", "x", true),
    );
    expect(readTextChunks(png)).toEqual([
      { keyword: "Comment", text: "café" },
      { keyword: "Title", text: "서연의 초상" },
    ]);
  });
});

describe("withTextChunks", () => {
  it("replaces chara and ccv3 chunks of any text type, keeps others, and writes the new ones before IEND", async () => {
    const png = insertBeforeEnd(
      await portraitPng(),
      latinText("chara", "old"),
      latinText("Comment", "keep me"),
      internationalText("ccv3", "old"),
      latinText("CHARA", "old"),
    );
    const written = withTextChunks(png, [
      { keyword: "chara", text: "new-v2" },
      { keyword: "ccv3", text: "new-v3" },
    ]);
    const chunks = readChunks(written);
    expect(chunks.map((chunk) => chunk.type).slice(-3)).toEqual(["tEXt", "tEXt", "IEND"]);
    expect(readTextChunks(written)).toEqual([
      { keyword: "Comment", text: "keep me" },
      { keyword: "chara", text: "new-v2" },
      { keyword: "ccv3", text: "new-v3" },
    ]);
    expect((await sharp(written).metadata()).format).toBe("png");
  });

  it("refuses text a tEXt chunk cannot hold", async () => {
    const png = await portraitPng();
    expect(() => withTextChunks(png, [{ keyword: "chara", text: "서연" }])).toThrow(RangeError);
    expect(() => withTextChunks(png, [{ keyword: "", text: "x" }])).toThrow(RangeError);
  });
});

