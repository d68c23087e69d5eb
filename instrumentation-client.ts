import { z } from "zod";

// The pages' Content-Security-Policy has no 'unsafe-eval' (lib/security-headers.mjs). Without
// this, Zod probes for eval with `Function("")` when the first object schema is built, which the
// browser refuses and reports as a violation. Runs before the app's modules in the browser only;
// the server keeps Zod's compiled fast path.
z.config({ jitless: true });
