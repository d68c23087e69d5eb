// @ts-check
// A worker thread of the pool in worker-pool.ts: runs one pure function at a time, off the main
// event loop. Plain JavaScript, loaded as it is (never bundled), so it works under Vitest and
// `next start` alike. The function is named by a module path (under the project root, .mjs) and
// an export; it gets the task's arguments and returns a value that can be structured-cloned.
//
// Replies: { id, ok: true, value } — whole-buffer Uint8Arrays in the value (top level or one
// level down) are transferred, not copied; { id, ok: false, refusal: { reason, params } } when the
// function threw an error carrying a string `reason` (an expected refusal, such as an avatar_*
// or card_* code); { id, ok: false, message } for anything else (a bug: logged by the caller).
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parentPort, workerData } from "node:worker_threads";

const root = /** @type {{ root: string }} */ (workerData).root;

/** @param {unknown} value @param {ArrayBuffer[]} list */
function addTransfer(value, list) {
  if (
    value instanceof Uint8Array &&
    value.buffer instanceof ArrayBuffer &&
    value.byteOffset === 0 &&
    value.byteLength === value.buffer.byteLength &&
    !list.includes(value.buffer)
  ) {
    list.push(value.buffer);
  }
}

/** @param {unknown} value */
function transfersOf(value) {
  /** @type {ArrayBuffer[]} */
  const list = [];
  addTransfer(value, list);
  if (value && typeof value === "object" && !ArrayBuffer.isView(value)) for (const inner of Object.values(value)) addTransfer(inner, list);
  return list;
}

parentPort?.on("message", async (/** @type {{ id: number, module: string, name: string, args: unknown[] }} */ task) => {
  try {
    const file = path.resolve(root, task.module);
    if (!file.startsWith(root + path.sep) || !file.endsWith(".mjs")) throw new Error(`not a task module: ${task.module}`);
    const exports = await import(pathToFileURL(file).href);
    const run = exports[task.name];
    if (typeof run !== "function") throw new Error(`${task.module} has no function ${task.name}`);
    const value = await run(...task.args);
    parentPort?.postMessage({ id: task.id, ok: true, value }, transfersOf(value));
  } catch (error) {
    const e = /** @type {{ reason?: unknown, params?: unknown, message?: unknown, stack?: unknown }} */ (error ?? {});
    if (typeof e.reason === "string") {
      parentPort?.postMessage({ id: task.id, ok: false, refusal: { reason: e.reason, params: e.params ?? {} } });
    } else {
      parentPort?.postMessage({ id: task.id, ok: false, message: String(e.stack ?? e.message ?? error) });
    }
  }
});
