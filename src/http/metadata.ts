import type { TensorInfo } from "../models/handle.js";
import type { ServedVersionInfo } from "../serving/registry.js";

/** TensorFlow's DataType enum names for the wire dtypes, as TF Serving's metadata spells them. */
const TF_DTYPES: Readonly<Record<string, string>> = {
  float16: "DT_HALF", float32: "DT_FLOAT", float64: "DT_DOUBLE", int8: "DT_INT8", int16: "DT_INT16", int32: "DT_INT32", int64: "DT_INT64",
  uint8: "DT_UINT8", uint16: "DT_UINT16", uint32: "DT_UINT32", uint64: "DT_UINT64", bool: "DT_BOOL", string: "DT_STRING",
};

function tensorInfo(t: TensorInfo) {
  // A SavedModel input of unknown rank has no shape at all.
  const shape = t.shape as TensorInfo["shape"] | null;
  return {
    dtype: TF_DTYPES[t.dtype] ?? "DT_INVALID",
    tensor_shape: shape === null ? { dim: [], unknown_rank: true } : { dim: shape.map((d) => ({ size: String(d ?? -1), name: "" })), unknown_rank: false },
    name: t.name,
  };
}

/**
 * `GET /v1/models/NAME[/versions/N]/metadata` as TF Serving answers it: the model spec and its
 * `serving_default` signature (inputs and outputs with dtype and shape; -1 for any size).
 */
export function modelMetadata(served: ServedVersionInfo) {
  const byName = (list: readonly TensorInfo[]) => Object.fromEntries(list.map((t) => [t.name, tensorInfo(t)]));
  return {
    model_spec: { name: served.name, signature_name: "", version: String(served.version) },
    metadata: {
      signature_def: {
        signature_def: {
          serving_default: { inputs: byName(served.inputs), outputs: byName(served.outputs), method_name: "tensorflow/serving/predict" },
        },
      },
    },
  };
}
