// The worker entry when the engine runs from its TypeScript sources (its tests, tools run through
// tsx): registers tsx's loader in this thread, since loader flags do not reliably reach worker
// threads, then loads the real entry. The built package starts workers on worker-main.js directly.
import { register } from "tsx/esm/api";

register();
const { default: runJob } = await import("./worker-main.ts");
export default runJob;
