import { describe, expect, it } from "vitest";
import { buildPlainGlb, buildVrm0, buildVrm1, editGlbJson, glbFromImage, packGlb, unpackGlb } from "@/e2e/fixtures/avatars";
import { DomainError } from "@/server/errors";
import { avatarLimitsFromEnv, AVATAR_UPLOAD_MAX_BYTES, validateAvatarModel } from "./gltf";

async function reason(bytes: Uint8Array, options?: Parameters<typeof validateAvatarModel>[1]): Promise<string> {
  try {
    await validateAvatarModel(bytes, options);
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
