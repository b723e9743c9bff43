/**
 * The Keras Applications of issue 20 (weights=None: nothing downloads), each at the smallest input it
 * takes, a transfer-learning model (a frozen nested base under a new head) and keras.io's Transformer
 * text classifier, as Python bodies that bind the model to `m` (see kerasReferences; `L` is keras.layers).
 */
const application = (call: string) => `m = keras.applications.${call}`;

export const APPLICATIONS: Record<string, string> = {
  MobileNetV2: application("MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, weights=None)"),
  MobileNetV3Small: application("MobileNetV3Small(input_shape=(32, 32, 3), weights=None)"),
  MobileNetV3Large: application("MobileNetV3Large(input_shape=(32, 32, 3), weights=None)"),
  EfficientNetB0: application("EfficientNetB0(input_shape=(32, 32, 3), weights=None)"),
  EfficientNetV2B0: application("EfficientNetV2B0(input_shape=(32, 32, 3), weights=None)"),
  ResNet50: application("ResNet50(input_shape=(32, 32, 3), weights=None)"),
  ResNet50V2: application("ResNet50V2(input_shape=(32, 32, 3), weights=None)"),
  DenseNet121: application("DenseNet121(input_shape=(32, 32, 3), weights=None)"),
  NASNetMobile: application("NASNetMobile(input_shape=(32, 32, 3), weights=None)"),
  Xception: application("Xception(input_shape=(71, 71, 3), weights=None)"),
  InceptionV3: application("InceptionV3(input_shape=(75, 75, 3), weights=None)"),
  VGG16: application("VGG16(input_shape=(32, 32, 3), weights=None)"),
  ConvNeXtTiny: application("ConvNeXtTiny(input_shape=(32, 32, 3), weights=None)"),
  // keras.io's transfer-learning guide: a frozen base called with training=False, a new head.
  transfer: `base = keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, include_top=False, weights=None)
base.trainable = False
image = keras.Input((32, 32, 3), name="image")
x = L.GlobalAveragePooling2D(name="pool")(base(image, training=False))
m = keras.Model(image, L.Dense(5, activation="softmax", name="head")(L.Dropout(0.2)(x)))`,
  // keras.io's "Text classification with Transformer", functional: its TokenAndPositionEmbedding is a
  // custom layer, so the positions come as a second input to an Embedding of their own.
  transformer: `ids = keras.Input((16,), dtype="int32", name="ids")
positions = keras.Input((16,), dtype="int32", name="positions")
x = L.Add(name="embedding")([L.Embedding(200, 32, name="tokens")(ids), L.Embedding(16, 32, name="position_embedding")(positions)])
attended = L.Dropout(0.1)(L.MultiHeadAttention(num_heads=2, key_dim=32, name="attention")(x, x))
x = L.LayerNormalization(epsilon=1e-6, name="norm1")(x + attended)
ffn = L.Dropout(0.1)(L.Dense(32, name="ffn2")(L.Dense(32, activation="relu", name="ffn1")(x)))
x = L.LayerNormalization(epsilon=1e-6, name="norm2")(x + ffn)
x = L.Dropout(0.1)(L.GlobalAveragePooling1D()(x))
x = L.Dropout(0.1)(L.Dense(20, activation="relu")(x))
m = keras.Model([ids, positions], L.Dense(2, activation="softmax", name="classes")(x))`,
};

/**
 * The ones `make test` runs end to end (a minute together here); `make test-applications` runs them all,
 * the transfer-learning model (70 s here) among them.
 */
export const SMALL_APPLICATIONS = ["MobileNetV2", "transformer"] as const;
