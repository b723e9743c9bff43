import { BROWSER_MODELS_IN_MAKE_TEST, convertedInChromium } from "./converted-in-chromium.js";

// Three reference models and the Transformer; `make test-long` runs the other models and MobileNetV2
// (test/long/convert-browser.test.ts).
convertedInChromium(BROWSER_MODELS_IN_MAKE_TEST, ["transformer"]);
