import { convertedInChromium } from "./converted-in-chromium.js";

// Three reference models (the LSTM, an encoder-decoder, GRU reset_after=False) and the Transformer;
// `make test-long` runs the other five and MobileNetV2 (test/long/convert-browser.test.ts).
convertedInChromium(["lstm", "lstm-encoder-decoder", "gru-reset-before"], ["transformer"]);
