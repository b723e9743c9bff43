import { arch, platform } from "node:os";
import { tfjsInfo } from "../tfjs/runtime.js";
import type { WorkerInfo } from "../worker/info.js";
import type { ReportEnvironment } from "./html-report.js";

/** What a parity report was produced with: the Python worker's versions, TF.js's, Node's, the machine. */
export async function reportEnvironment(worker: WorkerInfo): Promise<ReportEnvironment> {
  const tfjs = await tfjsInfo();
  return {
    "Python TensorFlow": worker.tensorflow,
    Keras: worker.keras,
    NumPy: worker.numpy,
    Python: worker.python,
    "TF.js": tfjs.tfjs,
    "tfjs-node's TensorFlow C library": tfjs.tensorflow,
    Node: process.versions.node,
    platform: `${platform()} ${arch()}`,
    date: new Date().toISOString(),
  };
}
