import { WebIO } from "@gltf-transform/core";
import sharp from "sharp";
import { describe, expect, it, vi } from "vitest";
import {
  buildPlainGlb,
  buildTexturedGeneratorGlb,
  buildTexturedVrm0,
  buildTexturedVrm1,
  buildVrm0,
  buildVrm1,
  editGlbJson,
  glbFromImage,
  packGlb,
  unpackGlb,
} from "@/e2e/fixtures/avatars";
import {
  bigPng,
  hugeJsonGlb,
  hugeTextureGlb,
  instancedGlb,
  manyAccessorsGlb,
  manyBigTexturesGlb,
  manyMorphTargetsGlb,
  manyOfGlb,
  millionNodeGlb,
  texturedGlb,
  unreadableTextureGlb,
} from "@/e2e/fixtures/hostile-models";
import { en } from "@/lib/i18n/en";
import { ko } from "@/lib/i18n/ko";
import { DomainError } from "@/server/errors";
import { AVATAR_ERROR_REASONS, AVATAR_MODEL_CAPS, avatarLimitsFromEnv, AVATAR_UPLOAD_MAX_BYTES, fitGeneratedModel, validateAvatarModel } from "./gltf";
import { imageSize } from "./model-check.mjs";

async function reason(
  bytes: Uint8Array,
  options?: Parameters<typeof validateAvatarModel>[1],
  check: (bytes: Uint8Array, options?: Parameters<typeof validateAvatarModel>[1]) => Promise<unknown> = validateAvatarModel,
): Promise<string> {
  try {
    await check(bytes, options);
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    const domain = error as DomainError;
    expect(domain.code).toBe("bad_input");
    return String(domain.params.reason);
  }
  throw new Error("expected the model to be refused");
}

function setU32(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(offset, value, true);
  return copy;
}

describe("validateAvatarModel: good files", () => {
  it("accepts a plain GLB and describes it", async () => {
    const bytes = await buildPlainGlb();
    const result = await validateAvatarModel(bytes);
    expect(result).toMatchObject({ format: "glb", vrmVersion: null, triangles: 12, byteSize: bytes.length });
    expect(result.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("recognises VRM 0.x and VRM 1.0", async () => {
    await expect(validateAvatarModel(await buildVrm0())).resolves.toMatchObject({ format: "vrm", vrmVersion: "0", triangles: 12 });
    await expect(validateAvatarModel(await buildVrm1())).resolves.toMatchObject({ format: "vrm", vrmVersion: "1", triangles: 12 });
  });

  it("accepts a textured model made from an image (what the generator fakes return)", async () => {
    const png = Buffer.from(
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
      "base64",
    );
    const result = await validateAvatarModel(await glbFromImage(png));
    expect(result.format).toBe("glb");
  });

  it("counts triangles per drawn node, strips and fans included", async () => {
    const glb = await buildPlainGlb({ subdivisions: 3 });
    expect((await validateAvatarModel(glb)).triangles).toBe(6 * 2 * 9);
    // The same mesh drawn by two nodes costs twice.
    const twice = editGlbJson(glb, (json) => {
      const nodes = json.nodes as Array<Record<string, unknown>>;
      nodes.push({ name: "Copy", mesh: 0 });
      const scenes = json.scenes as Array<{ nodes: number[] }>;
      scenes[0]?.nodes.push(nodes.length - 1);
    });
    expect((await validateAvatarModel(twice)).triangles).toBe(2 * 6 * 2 * 9);
    // Non-indexed triangle strip over the positions: count - 2.
    const strip = editGlbJson(glb, (json) => {
      const primitive = (json.meshes as Array<{ primitives: Array<Record<string, unknown>> }>)[0]?.primitives[0];
      if (!primitive) throw new Error("no primitive");
      delete primitive.indices;
      primitive.mode = 5;
    });
    const vertices = 6 * 4 * 4;
    expect((await validateAvatarModel(strip)).triangles).toBe(vertices - 2);
  });
});

describe("validateAvatarModel: hostile files", () => {
  it("refuses what is not a GLB", async () => {
    expect(await reason(new Uint8Array())).toBe("avatar_not_glb");
    expect(await reason(new TextEncoder().encode('{"asset":{"version":"2.0"}}'))).toBe("avatar_not_glb");
    const glb = await buildPlainGlb();
    const wrongMagic = glb.slice();
    wrongMagic[0] = 0x47;
    expect(await reason(wrongMagic)).toBe("avatar_not_glb");
  });

  it("refuses glTF 1 containers and glTF 1 assets", async () => {
    const glb = await buildPlainGlb();
    expect(await reason(setU32(glb, 4, 1))).toBe("avatar_version");
    expect(await reason(editGlbJson(glb, (json) => void (json.asset = { version: "1.0" })))).toBe("avatar_version");
  });

  it("refuses truncated (half-written) files", async () => {
    const glb = await buildPlainGlb();
    for (const cut of [5, 12, 19, 40, Math.floor(glb.length / 2), glb.length - 4]) {
      expect(await reason(glb.subarray(0, cut))).toBe("avatar_truncated");
    }
  });

  it("refuses lying chunk and header lengths, huge ones included", async () => {
    const glb = await buildPlainGlb();
    const jsonLength = new DataView(glb.buffer, glb.byteOffset).getUint32(12, true);
    expect(await reason(setU32(glb, 8, 0xffffffff))).toBe("avatar_truncated");
    expect(await reason(setU32(glb, 8, glb.length - 4))).toBe("avatar_malformed");
    expect(await reason(setU32(glb, 12, 0xfffffff0))).toBe("avatar_truncated");
    expect(await reason(setU32(glb, 12, jsonLength - 4))).toMatch(/avatar_(malformed|truncated)/);
    expect(await reason(setU32(glb, 20 + jsonLength, 0x7ffffff0))).toBe("avatar_truncated");
    // Trailing garbage past the declared length.
    const longer = new Uint8Array(glb.length + 8);
    longer.set(glb);
    expect(await reason(longer)).toBe("avatar_malformed");
  });

  it("refuses a BIN chunk first, a second JSON chunk, and JSON that is not an object", async () => {
    const glb = await buildPlainGlb();
    expect(await reason(setU32(glb, 16, 0x004e4942))).toBe("avatar_malformed");
    const { bin } = unpackGlb(glb);
    for (const json of [[], "glTF", 42, null]) expect(await reason(packGlb(json, bin))).toBe("avatar_malformed");
    const notJson = packGlb({}, bin);
    notJson.set(new TextEncoder().encode("{{{{"), 20);
    expect(await reason(notJson)).toBe("avatar_malformed");
    expect(await reason(packGlb({ asset: "2.0" }, bin))).toBe("avatar_malformed");
  });

  it("refuses external and data: URIs", async () => {
    const glb = await buildPlainGlb();
    const external = editGlbJson(glb, (json) => {
      (json.buffers as Array<Record<string, unknown>>).push({ uri: "https://evil.example/x.bin", byteLength: 4 });
    });
    expect(await reason(external)).toBe("avatar_external_uri");
    const dataUri = editGlbJson(glb, (json) => {
      json.images = [{ uri: "data:image/png;base64,AAAA" }];
    });
    expect(await reason(dataUri)).toBe("avatar_external_uri");
    const localFile = editGlbJson(glb, (json) => {
      json.images = [{ uri: "../../etc/passwd" }];
    });
    expect(await reason(localFile)).toBe("avatar_external_uri");
  });

  it("refuses buffer views and accessors outside the binary chunk", async () => {
    const glb = await buildPlainGlb();
    const view = editGlbJson(glb, (json) => {
      const views = json.bufferViews as Array<Record<string, unknown>>;
      if (views[0]) views[0].byteLength = 1e9;
    });
    expect(await reason(view)).toBe("avatar_truncated");
    const accessor = editGlbJson(glb, (json) => {
      const accessors = json.accessors as Array<Record<string, unknown>>;
      if (accessors[0]) accessors[0].count = 1e7;
    });
    expect(await reason(accessor)).toBe("avatar_malformed");
    const negative = editGlbJson(glb, (json) => {
      const accessors = json.accessors as Array<Record<string, unknown>>;
      if (accessors[0]) accessors[0].bufferView = -1;
    });
    expect(await reason(negative)).toBe("avatar_malformed");
  });

  it("refuses required extensions it cannot read (Draco)", async () => {
    const glb = await buildPlainGlb();
    const draco = editGlbJson(glb, (json) => {
      json.extensionsUsed = ["KHR_draco_mesh_compression"];
      json.extensionsRequired = ["KHR_draco_mesh_compression"];
    });
    expect(await reason(draco)).toBe("avatar_unsupported_extension");
    const unlit = editGlbJson(glb, (json) => {
      json.extensionsUsed = ["KHR_materials_unlit"];
      json.extensionsRequired = ["KHR_materials_unlit"];
    });
    expect(await reason(unlit)).toBe("avatar_unsupported_extension");
    // Optional extensions are fine.
    const optional = editGlbJson(glb, (json) => {
      json.extensionsUsed = ["KHR_materials_unlit"];
    });
    await expect(validateAvatarModel(optional)).resolves.toMatchObject({ format: "glb" });
  });

  it("refuses node cycles, shared children and huge all-zero accessors", async () => {
    const glb = await buildPlainGlb();
    const nodes = (edit: (nodes: Array<Record<string, unknown>>) => void) =>
      editGlbJson(glb, (json) => edit(json.nodes as Array<Record<string, unknown>>));
    expect(await reason(nodes((n) => void (n[1]!.children = [0])))).toBe("avatar_malformed");
    expect(await reason(nodes((n) => void (n[1]!.children = [1])))).toBe("avatar_malformed");
    expect(await reason(nodes((n) => void (n[1]!.children = [7])))).toBe("avatar_malformed");
    expect(await reason(nodes((n) => void n.push({ children: [1] })))).toBe("avatar_malformed");
    // A long chain is fine (and checked in linear time).
    const chain = nodes((n) => {
      const first = n.length;
      for (let i = 0; i < 9_000; i += 1) n.push(i < 8_999 ? { children: [first + i + 1] } : { mesh: 0 });
    });
    await expect(validateAvatarModel(chain)).resolves.toMatchObject({ triangles: 24 });
    const zeros = editGlbJson(glb, (json) => {
      (json.accessors as unknown[]).push({ componentType: 5126, type: "MAT4", count: 100_000_000 });
    });
    expect(await reason(zeros)).toBe("avatar_malformed");
  });

  it("refuses a model without a drawn mesh", async () => {
    const glb = await buildPlainGlb();
    const empty = editGlbJson(glb, (json) => {
      for (const node of json.nodes as Array<Record<string, unknown>>) delete node.mesh;
    });
    expect(await reason(empty)).toBe("avatar_no_mesh");
  });

  it("enforces the size and triangle limits", async () => {
    const glb = await buildPlainGlb({ subdivisions: 10 });
    expect(await reason(glb, { maxTriangles: 1000 })).toBe("avatar_too_many_triangles");
    await expect(validateAvatarModel(glb, { maxTriangles: 1200 })).resolves.toMatchObject({ triangles: 1200 });
    expect(await reason(glb, { maxBytes: glb.length - 1 })).toBe("avatar_too_large");
  });

  it("reads its limits from the environment, never above the upload ceiling", () => {
    expect(avatarLimitsFromEnv({})).toMatchObject({ maxBytes: AVATAR_UPLOAD_MAX_BYTES, maxTriangles: 500_000 });
    expect(avatarLimitsFromEnv({ AVATAR_MAX_MB: "2", AVATAR_MAX_TRIANGLES: "1000" })).toMatchObject({ maxBytes: 2 * 1024 * 1024, maxTriangles: 1000 });
    expect(avatarLimitsFromEnv({ AVATAR_MAX_MB: "999" }).maxBytes).toBe(AVATAR_UPLOAD_MAX_BYTES);
  });
});

describe("validateAvatarModel: caps before any full parse", () => {
  it("accepts the textured fixtures made the way VRoid and the generators make them", async () => {
    await expect(validateAvatarModel(await buildTexturedVrm1())).resolves.toMatchObject({ format: "vrm", vrmVersion: "1" });
    await expect(validateAvatarModel(await buildTexturedVrm0())).resolves.toMatchObject({ format: "vrm", vrmVersion: "0" });
    await expect(validateAvatarModel(await buildTexturedGeneratorGlb({ format: "jpeg" }))).resolves.toMatchObject({ format: "glb", triangles: 4000 });
  });

  it("refuses a million empty nodes (3 MB) by their count", async () => {
    expect(await reason(await millionNodeGlb())).toBe("avatar_too_many_nodes");
    // Just under the cap is fine.
    await expect(validateAvatarModel(await millionNodeGlb(AVATAR_MODEL_CAPS.maxNodes - 2))).resolves.toMatchObject({ triangles: 12 });
  });

  it("counts EXT_mesh_gpu_instancing into the triangles", async () => {
    await expect(validateAvatarModel(await instancedGlb(10))).resolves.toMatchObject({ triangles: 120 });
    // 12 triangles × a million instances: twelve million triangles.
    expect(await reason(await instancedGlb(1_000_000))).toBe("avatar_too_many_triangles");
    expect(await reason(await instancedGlb(100), { maxTriangles: 1000 })).toBe("avatar_too_many_triangles");
  });

  it("reads texture sizes from PNG, JPEG and WebP headers", async () => {
    const raw = { raw: { width: 300, height: 200, channels: 3 as const } };
    const pixels = Buffer.alloc(300 * 200 * 3, 90);
    const encoded = {
      png: await sharp(pixels, raw).png().toBuffer(),
      jpeg: await sharp(pixels, raw).jpeg().toBuffer(),
      progressive: await sharp(pixels, raw).jpeg({ progressive: true }).toBuffer(),
      webpLossy: await sharp(pixels, raw).webp().toBuffer(),
      webpLossless: await sharp(pixels, raw).webp({ lossless: true }).toBuffer(),
      webpExtended: await sharp(Buffer.alloc(300 * 200 * 4, 90), { raw: { width: 300, height: 200, channels: 4 } }).webp().toBuffer(),
    };
    for (const [name, bytes] of Object.entries(encoded)) expect({ name, size: imageSize(new Uint8Array(bytes)) }).toEqual({ name, size: { width: 300, height: 200 } });
    expect(imageSize(bigPng(16384))).toEqual({ width: 16384, height: 16384 });
    expect(imageSize(new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61]))).toBeNull();
    expect(imageSize(new Uint8Array([0xff, 0xd8, 0xff]))).toBeNull();
  });

  it("refuses a 16384² PNG texture (1 GiB decoded), and textures too large together", async () => {
    expect(await reason(await hugeTextureGlb())).toBe("avatar_texture_too_large");
    await expect(validateAvatarModel(await texturedGlb([{ bytes: bigPng(8192), mimeType: "image/png" }]))).resolves.toMatchObject({ triangles: 12 });
    expect(await reason(await manyBigTexturesGlb(5))).toBe("avatar_textures_too_large");
    expect(await reason(await manyBigTexturesGlb(2, 1024), { maxTexturePixels: 2 * 1024 * 1024 - 1 })).toBe("avatar_textures_too_large");
  });

  it("refuses a texture that is no PNG, JPEG or WebP (KTX2 included)", async () => {
    expect(await reason(await unreadableTextureGlb())).toBe("avatar_texture_unreadable");
  });

  it("refuses a huge JSON chunk before parsing it", async () => {
    expect(await reason(await hugeJsonGlb(9))).toBe("avatar_json_too_large");
    expect(await reason(await buildPlainGlb(), { maxJsonBytes: 64 })).toBe("avatar_json_too_large");
  });

  it("refuses too many accessors, buffer views, meshes, primitives, morph targets, materials, textures, skins and animations", async () => {
    expect(await reason(await manyAccessorsGlb(40_000))).toBe("avatar_too_many_accessors");
    expect(await reason(await manyOfGlb("bufferViews", 40_000, { buffer: 0, byteLength: 4 }))).toBe("avatar_too_many_accessors");
    expect(await reason(await manyOfGlb("meshes", 1_001, { primitives: [{ attributes: { POSITION: 0 } }] }))).toBe("avatar_too_many_meshes");
    const primitives = Array.from({ length: 1_000 }, () => ({ attributes: { POSITION: 0 } }));
    expect(await reason(await manyOfGlb("meshes", 5, { primitives }))).toBe("avatar_too_many_meshes");
    expect(await reason(await manyMorphTargetsGlb(20_000))).toBe("avatar_too_many_morph_targets");
    expect(await reason(await manyOfGlb("materials", 1_001, {}))).toBe("avatar_too_many_materials");
    expect(await reason(await manyOfGlb("textures", 1_001, {}))).toBe("avatar_too_many_textures");
    expect(await reason(await manyOfGlb("samplers", 1_001, {}))).toBe("avatar_too_many_textures");
    expect(await reason(await manyOfGlb("skins", 1_001, { joints: [0] }))).toBe("avatar_too_many_skins");
    expect(await reason(await manyOfGlb("skins", 2, { joints: Array.from({ length: 40_000 }, () => 0) }))).toBe("avatar_too_many_skins");
    expect(await reason(await manyOfGlb("animations", 257, { channels: [], samplers: [] }))).toBe("avatar_too_many_animations");
    const channels = Array.from({ length: 70_000 }, () => ({ sampler: 0, target: { node: 0, path: "translation" } }));
    expect(await reason(await manyOfGlb("animations", 1, { channels, samplers: [] }))).toBe("avatar_too_many_animations");
  });

  it("has a sentence in both languages for every reason", () => {
    for (const key of AVATAR_ERROR_REASONS) {
      expect(en).toHaveProperty([`error.reason.${key}`]);
      expect(ko).toHaveProperty([`error.reason.${key}`]);
    }
  });
});

describe("validateAvatarModel: on a worker thread", () => {
  it("keeps the event loop turning while a hostile file is checked, and stops the check at its time limit", async () => {
    // With its node cap lifted, the million-node file goes on to the full parse (26 s and 1.2 GB on
    // the event loop before): the worker is terminated at its time or heap limit instead.
    const hostile = await millionNodeGlb();
    let ticks = 0;
    let ticksBeforeSettled = -1;
    const interval = setInterval(() => (ticks += 1), 5);
    try {
      const refused = reason(hostile, { maxNodes: 2_000_000, timeoutMs: 3_000 }).finally(() => (ticksBeforeSettled = ticks));
      // Ticks while the file is being checked; were the check on this thread, none would come before it ended.
      await vi.waitUntil(() => ticks >= 20, { timeout: 10_000, interval: 5 });
      expect(ticksBeforeSettled).toBe(-1);
      expect(await refused).toBe("avatar_too_complex");
    } finally {
      clearInterval(interval);
    }
  });

  it("leaves the caller's bytes as they were", async () => {
    const glb = await buildPlainGlb();
    const copy = glb.slice();
    await validateAvatarModel(glb);
    expect(glb.byteLength).toBe(copy.byteLength);
    expect(Buffer.from(glb).equals(Buffer.from(copy))).toBe(true);
  });
});

describe("fitGeneratedModel", () => {
  it("returns a model within the limit as it is", async () => {
    const glb = await buildTexturedGeneratorGlb({ triangles: 4000 });
    const fitted = await fitGeneratedModel(glb);
    expect(fitted.reduction).toBeNull();
    expect(fitted.bytes).toBe(glb);
    expect(fitted.model).toMatchObject({ format: "glb", triangles: 4000 });
  });

  it("simplifies a 600k-triangle textured mesh under the limit, keeping its UVs and texture", { timeout: 120_000 }, async () => {
    const glb = await buildTexturedGeneratorGlb({ triangles: 600_000 });
    expect(await reason(glb)).toBe("avatar_too_many_triangles");
    const fitted = await fitGeneratedModel(glb);
    expect(fitted.reduction?.fromTriangles).toBe(600_000);
    expect(fitted.reduction?.toTriangles).toBe(fitted.model.triangles);
    expect(fitted.model.triangles).toBeLessThanOrEqual(500_000);
    expect(fitted.model.triangles).toBeGreaterThan(250_000);
    // The result is a model like any other: it validates on its own.
    await expect(validateAvatarModel(fitted.bytes)).resolves.toEqual(fitted.model);

    const before = await new WebIO().readBinary(glb);
    const after = await new WebIO().readBinary(fitted.bytes);
    const [primitive] = after.getRoot().listMeshes()[0]!.listPrimitives();
    const uv = primitive!.getAttribute("TEXCOORD_0");
    expect(uv?.getCount()).toBe(primitive!.getAttribute("POSITION")?.getCount());
    // The texture is still mapped across the same span as in the source (welding and collapsing
    // edges may not push UVs off the image, nor lose its edges).
    const sourceUv = before.getRoot().listMeshes()[0]!.listPrimitives()[0]!.getAttribute("TEXCOORD_0")!;
    const span = (accessor: typeof uv) => [...accessor!.getMinNormalized([]), ...accessor!.getMaxNormalized([])];
    span(uv).forEach((value, i) => expect(value).toBeCloseTo(span(sourceUv)[i]!, 2));
    const texture = primitive!.getMaterial()?.getBaseColorTexture();
    expect(Buffer.from(texture!.getImage()!).equals(Buffer.from(before.getRoot().listTextures()[0]!.getImage()!))).toBe(true);
  });

  it("goes further in passes when the limit is far below", { timeout: 120_000 }, async () => {
    const fitted = await fitGeneratedModel(await buildTexturedGeneratorGlb({ triangles: 200_000 }), { maxTriangles: 5_000 });
    expect(fitted.model.triangles).toBeLessThanOrEqual(5_000);
    expect(fitted.reduction).toEqual({ fromTriangles: 200_000, toTriangles: fitted.model.triangles });
  });

  it("still holds a generated model to every other cap, and a VRM to its triangle limit", async () => {
    expect(await reason(await hugeTextureGlb(), undefined, fitGeneratedModel)).toBe("avatar_texture_too_large");
    expect(await reason(await millionNodeGlb(), undefined, fitGeneratedModel)).toBe("avatar_too_many_nodes");
    expect(await reason(await buildVrm1({ subdivisions: 10 }), { maxTriangles: 100 }, fitGeneratedModel)).toBe("avatar_too_many_triangles");
  });
});
