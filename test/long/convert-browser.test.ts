import { BROWSER_MODELS, convertedInChromium } from "../browser/converted-in-chromium.js";

// What make test's test/browser/convert-browser.test.ts leaves out: the other reference models and MobileNetV2.
const inMakeTest = ["lstm", "lstm-encoder-decoder", "gru-reset-before"];
convertedInChromium(BROWSER_MODELS.filter((m) => !inMakeTest.includes(m)), ["MobileNetV2"]);
