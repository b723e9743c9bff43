import type { Tensor, TfModule } from "./tfjs-types.js";

type Variable = { read(): Tensor };
/** What our convolution classes read of TF.js's: the fields its Conv classes keep. */
export interface ConvFields {
  bias: Variable | null;
  useBias: boolean;
  padding: string;
  dilationRate: number[];
  activation: { apply(x: Tensor): Tensor } | null;
}

/** A class TF.js registered under `name`, to extend. */
export function registered<T>(tf: TfModule, name: string): T {
  return tf.serialization.SerializationMap.getMap().classNameMap[name]![0] as unknown as T;
}

/** Bias add and activation after the convolution, as Keras's BaseConv.call. */
export function finish(self: ConvFields, y: Tensor, tf: TfModule): Tensor {
  const biased = self.useBias && self.bias ? tf.add(y, self.bias.read()) : y;
  return self.activation ? self.activation.apply(biased) : biased;
}
