import { BROWSER_MODELS, BROWSER_MODELS_IN_MAKE_TEST, convertedInChromium } from "../browser/converted-in-chromium.js";

// What make test's test/browser/convert-browser.test.ts leaves out: the other reference models and MobileNetV2.
convertedInChromium(BROWSER_MODELS.filter((m) => !BROWSER_MODELS_IN_MAKE_TEST.includes(m)), ["MobileNetV2"]);
