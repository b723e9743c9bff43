import { TFBRIDGE_CENTER_CROP, TFBRIDGE_RESIZING } from "./names.js";
import type { Tensor, TfModule } from "./tfjs-types.js";

type Layer = InstanceType<TfModule["layers"]["Layer"]>;
type Shape = (number | null)[];
type Tensor4D = Parameters<TfModule["image"]["resizeBilinear"]>[0];

/** What `registerKerasLayers` registers as `TfbridgeResizing` and `TfbridgeCenterCrop`. */
export interface TfbridgeImageLayerClass {
  new (args: { height: number; width: number; [key: string]: unknown }): Layer;
  readonly className: string;
}

interface ResizingArgs {
  height: number;
  width: number;
  interpolation?: "bilinear" | "nearest";
  cropToAspectRatio?: boolean;
  padToAspectRatio?: boolean;
  fillValue?: number;
}

const one = (inputs: Tensor | Tensor[]) => (Array.isArray(inputs) ? inputs[0]! : inputs);
/** `tf.cast(tf.cast(a, "float32") / b, "int32")` on int32 scalars, as keras/src/backend/tensorflow/image.py computes crop and pad sizes. */
const f32Quotient = (a: number, b: number) => Math.trunc(Math.fround(Math.fround(a) / b));

/**
 * Keras 3's Resizing and CenterCrop (channels_last) as TF.js classes. Keras resizes with
 * `tf.image.resize`, which for bilinear and nearest runs TF's ResizeBilinear / ResizeNearestNeighbor
 * with half-pixel centres; TF.js's own Resizing passes align_corners instead, a different image.
 * Here the same TF.js ops get `halfPixelCenters` (on tfjs-node: TF's own kernels).
 */
export function defineResizing(tf: TfModule): { TfbridgeResizing: TfbridgeImageLayerClass; TfbridgeCenterCrop: TfbridgeImageLayerClass } {
  /** tf.image.resize(images, [height, width], method) without antialias. */
  const resize = (x: Tensor, height: number, width: number, interpolation: "bilinear" | "nearest"): Tensor =>
    interpolation === "nearest"
      ? tf.image.resizeNearestNeighbor(x as Tensor4D, [height, width], false, true)
      : tf.image.resizeBilinear(x as Tensor4D, [height, width], false, true);

  /** image.py resize's crop_to_aspect_ratio: the centred box of the target's aspect ratio. */
  const cropToAspect = (x: Tensor, th: number, tw: number): Tensor => {
    const [, h, w] = x.shape as number[];
    const ch = Math.max(Math.min(h!, f32Quotient(w! * th, tw)), 1);
    const cw = Math.max(Math.min(w!, f32Quotient(h! * tw, th)), 1);
    return tf.slice(x, [0, Math.trunc((h! - ch) / 2), Math.trunc((w! - cw) / 2), 0], [-1, ch, cw, -1]);
  };

  /** image.py resize's pad_to_aspect_ratio: fill_value rows (or columns) on both sides, as many each. */
  const padToAspect = (x: Tensor, th: number, tw: number, fill: number): Tensor => {
    const [b, h, w, c] = x.shape as number[];
    const hs = Math.trunc((Math.max(h!, f32Quotient(w! * th, tw)) - h!) / 2);
    const ws = Math.trunc((Math.max(w!, f32Quotient(h! * tw, th)) - w!) / 2);
    let out = x;
    if (hs > 0) out = tf.concat([tf.fill([b!, hs, w!, c!], fill, x.dtype), out, tf.fill([b!, hs, w!, c!], fill, x.dtype)], 1);
    if (ws > 0) out = tf.concat([tf.fill([b!, h!, ws, c!], fill, x.dtype), out, tf.fill([b!, h!, ws, c!], fill, x.dtype)], 2);
    return out;
  };

  /** resizing.py `_transform_images`: an int image comes back rounded and saturated to its dtype. */
  const asInput = (resized: Tensor, input: Tensor): Tensor =>
    resized.dtype === input.dtype ? resized : tf.cast(tf.clipByValue(tf.round(resized), -2147483648, 2147483647), input.dtype);

  class TfbridgeResizing extends tf.layers.Layer {
    static readonly className = TFBRIDGE_RESIZING;
    readonly args: Required<ResizingArgs>;
    constructor(args: ResizingArgs) {
      super(args as never);
      this.args = {
        height: args.height,
        width: args.width,
        interpolation: args.interpolation ?? "bilinear",
        cropToAspectRatio: args.cropToAspectRatio ?? false,
        padToAspectRatio: args.padToAspectRatio ?? false,
        fillValue: args.fillValue ?? 0,
      };
      if (this.args.cropToAspectRatio && this.args.padToAspectRatio) throw new Error(`${TFBRIDGE_RESIZING}: only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be true`);
    }
    override computeOutputShape(inputShape: Shape | Shape[]): Shape {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
      return [shape[0]!, this.args.height, this.args.width, shape[3]!];
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      const { height, width, interpolation, cropToAspectRatio, padToAspectRatio, fillValue } = this.args;
      return tf.tidy(() => {
        const x = one(inputs);
        const framed = cropToAspectRatio ? cropToAspect(x, height, width) : padToAspectRatio ? padToAspect(x, height, width, fillValue) : x;
        return asInput(resize(framed, height, width, interpolation), x);
      });
    }
    override getConfig() {
      return { ...super.getConfig(), ...this.args };
    }
  }

  /**
   * center_crop.py: the centred height × width window when the image is at least that large;
   * otherwise utils/image_utils.py smart_resize (the centred box of the target's aspect ratio, from
   * static sizes in double precision, then a bilinear resize). Keras casts the image to float32 first.
   */
  class TfbridgeCenterCrop extends tf.layers.Layer {
    static readonly className = TFBRIDGE_CENTER_CROP;
    readonly height: number;
    readonly width: number;
    constructor(args: { height: number; width: number }) {
      super(args as never);
      this.height = args.height;
      this.width = args.width;
    }
    override computeOutputShape(inputShape: Shape | Shape[]): Shape {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
      return [shape[0]!, this.height, this.width, shape[3]!];
    }
    override call(inputs: Tensor | Tensor[]): Tensor {
      const { height: th, width: tw } = this;
      return tf.tidy(() => {
        const x = tf.cast(one(inputs), "float32");
        const [, h, w] = x.shape as number[];
        if (h! >= th && w! >= tw) return tf.slice(x, [0, Math.floor((h! - th) / 2), Math.floor((w! - tw) / 2), 0], [-1, th, tw, -1]);
        const ch = Math.max(Math.min(h!, Math.trunc((w! * th) / tw)), 1);
        const cw = Math.max(Math.min(w!, Math.trunc((h! * tw) / th)), 1);
        const box = tf.slice(x, [0, Math.trunc((h! - ch) / 2), Math.trunc((w! - cw) / 2), 0], [-1, ch, cw, -1]);
        return resize(box, th, tw, "bilinear");
      });
    }
    override getConfig() {
      return { ...super.getConfig(), height: this.height, width: this.width };
    }
  }

  return { TfbridgeResizing, TfbridgeCenterCrop };
}
