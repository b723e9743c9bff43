import { ModelError, type ModelProblem } from "../errors.js";
import { checkConfigBounds } from "./bounds.js";
import { capped, classCounts } from "./refusal.js";

/**
 * The check the worker makes before Keras reads a config (python/tfbridge_worker/models/safety.py),
 * made here too so a description that names code is refused before it is sent: Keras's safe_mode
 * stops a serialized lambda, but a config can still name a Lambda layer, a class from the user's own
 * module (Keras imports it), a custom registered class, or a Keras function that acts when called.
 * (Only the worker can tell whether a class a Keras 2 config names without a module is built into Keras.)
 */

const CODE_CLASSES: Record<string, string> = {
  Lambda: "runs Python code stored in the model",
  __lambda__: "is Python bytecode stored in the model",
  TFSMLayer: "loads another model from a path its config names",
  TorchModuleWrapper: "unpickles a PyTorch module stored in the model",
};
/** The only modules a serialized function may come from: activations compute, they do not act. */
const FUNCTION_MODULES = ["keras.activations", "keras.src.activations"];
/** Keys Keras does not deserialize when loading with compile=False, as tfbridge does. */
const UNREAD_KEYS = new Set(["compile_config"]);

const isKerasModule = (module: string) => module === "keras" || module.startsWith("keras.");

/** Why Keras would import or run code to deserialize this object, or null. */
function whyUnsafe(node: Record<string, unknown>, cls: string): string | null {
  const { module, registered_name: registered } = node;
  // Own keys only: "constructor" or "__proto__" as a class name is not a code class.
  if (Object.hasOwn(CODE_CLASSES, cls)) return CODE_CLASSES[cls]!;
  // The module first: a data-wrapper name does not make a foreign module safe to import.
  if (module !== undefined && module !== null && !(typeof module === "string" && isKerasModule(module))) {
    return `is a class from module ${JSON.stringify(module)}, which Keras would import`;
  }
  if (cls.startsWith("__") && cls.endsWith("__")) return null; // Keras's own data wrappers (__keras_tensor__, ...)
  if (cls === "function") {
    const known = typeof module === "string" && FUNCTION_MODULES.some((m) => module.startsWith(m));
    return known ? null : `refers to the function ${String(module)}.${String(node.config)}, which Keras would look up and call; only activations are allowed`;
  }
  if (registered !== undefined && registered !== null && registered !== cls) return `is a custom or registered class (${JSON.stringify(registered)}), whose code Keras would need`;
  return null;
}

/**
 * Every unsafe object under `node`, with its layer and the field it sits in under that layer
 * (`kernel_initializer`, `recurrent_constraint`, `activation`: code hides there as well as in layers).
 */
function scan(node: unknown, layer: string, field: readonly string[], problems: ModelProblem[]): void {
  if (Array.isArray(node)) {
    for (const value of node) scan(value, layer, field, problems);
    return;
  }
  if (typeof node !== "object" || node === null) return;
  const entry = node as Record<string, unknown>;
  if (typeof entry.class_name === "string") {
    const name = (entry.config as { name?: unknown } | undefined)?.name;
    if (typeof name === "string") [layer, field] = [name, []];
    const reason = whyUnsafe(entry, entry.class_name);
    if (reason !== null) {
      problems.push({ layer, class: entry.class_name, reason, ...(field.length > 0 ? { field: field.join(".") } : {}) });
      return; // its inside is never deserialized
    }
  }
  for (const [key, value] of Object.entries(entry)) if (!UNREAD_KEYS.has(key)) scan(value, layer, key === "config" ? field : [...field, key], problems);
}

/**
 * Throws if `config` names anything Keras would import or run code for (a Lambda anywhere, nested
 * models and initializer, regularizer, constraint and activation fields included; a class outside
 * Keras; a custom registered class; a function other than an activation), or is over a bound of
 * {@link checkConfigBounds} (checked first: the scan recurses, and a config within the bounds is shallow).
 * @throws {ModelError} naming the bound, or the first offending layer and every problem in
 * `details.problems` (with the field under that layer where the object is not the layer itself).
 */
export function refuseCode(config: unknown, source?: string): void {
  checkConfigBounds(config, source);
  const problems: ModelProblem[] = [];
  scan(config, "?", [], problems);
  if (problems.length === 0) return;
  const listed = problems.map((p) => `${p.layer}${p.field ? ` ${p.field}` : ""} (${p.class}) ${p.reason}`).join("; ");
  const message = `${source ?? "config"}: refused before Keras read it, so nothing in it ran: ${classCounts(problems)}. tfbridge loads only built-in Keras classes (no Lambda, no custom code): ${listed}`;
  throw new ModelError(capped(message), { file: source, layer: problems[0]!.layer, problems });
}
