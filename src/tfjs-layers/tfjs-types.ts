import type * as tfjs from "@tensorflow/tfjs";

/**
 * The TF.js module these layers are defined against: `@tensorflow/tfjs`, or `@tensorflow/tfjs-node`
 * (which re-exports it; its namespace lacks only tfjs's `default`). Passed in, never imported, so this module runs in browsers and binds to
 * whichever TF.js instance (and so whichever class registry) the caller uses.
 */
export type TfModule = Omit<typeof tfjs, "default">;
export type Tensor = tfjs.Tensor;
/** The keyword arguments TF.js passes to `Layer.call`: mask, training, initialState. */
export type Kwargs = Record<string, unknown>;
