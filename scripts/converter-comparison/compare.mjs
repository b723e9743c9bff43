// Node half of the converter comparison: loads every converted output with stock
// @tensorflow/tfjs-node (tf.loadLayersModel / tf.loadGraphModel / tf.node.loadSavedModel), runs the
// model's saved inputs and compares with Keras 3's own outputs.
//
// Usage: node compare.mjs WORKDIR RESULTS_JSON   (WORKDIR/jobs.json comes from convert_all.py)
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);
const tf = require('@tensorflow/tfjs-node');

const [workdir, resultsPath] = process.argv.slice(2);
if (!workdir || !resultsPath) {
  console.error('usage: node compare.mjs WORKDIR RESULTS_JSON');
  process.exit(2);
}
const jobs = JSON.parse(fs.readFileSync(path.join(workdir, 'jobs.json'), 'utf8'));

function firstLine(err) {
  const msg = String(err && err.message !== undefined ? err.message : err).trim().split('\n')[0];
  return `${(err && err.name) || 'Error'}: ${msg}`;
}

function tensorsFor(inputs) {
  const out = {};
  for (const [name, { dtype, shape, data }] of Object.entries(inputs)) {
    out[name] = tf.tensor(data, shape, dtype.startsWith('int') ? 'int32' : 'float32');
  }
  return out;
}

function maxAbsError(outputs, reference) {
  if (outputs.length !== reference.length) {
    throw new Error(`${outputs.length} outputs, Keras has ${reference.length}`);
  }
  let worst = 0;
  outputs.forEach((t, i) => {
    const ref = reference[i];
    if (t.shape.join(',') !== ref.shape.join(',')) {
      throw new Error(`output ${i} has shape [${t.shape}], Keras's is [${ref.shape}]`);
    }
    const got = t.dataSync();
    for (let j = 0; j < got.length; j++) {
      const d = Math.abs(got[j] - ref.data[j]);
      if (!(d <= worst)) worst = d; // NaN propagates as the worst error
    }
  });
  return worst;
}

// Loads one path's output; returns a function from named input tensors to output tensors.
async function load(kind, dir) {
  if (kind === 'layers') {
    const model = await tf.loadLayersModel(`file://${path.resolve(dir, 'model.json')}`);
    return async (named) => {
      const xs = model.inputNames.map((n) => {
        if (!(n in named)) throw new Error(`TF.js model input ${n} is not one of Keras's inputs`);
        return named[n];
      });
      const y = model.predict(xs.length === 1 ? xs[0] : xs);
      return Array.isArray(y) ? y : [y];
    };
  }
  if (kind === 'graph') {
    const model = await tf.loadGraphModel(`file://${path.resolve(dir, 'model.json')}`);
    return async (named) => {
      const feed = {};
      for (const info of model.inputs) {
        const key = Object.keys(named).find((n) => info.name === n || info.name.startsWith(`${n}:`));
        if (key === undefined) throw new Error(`graph input ${info.name} is not one of Keras's inputs`);
        feed[info.name] = named[key];
      }
      // executeAsync: RNN while-loops are dynamic ops, which execute() refuses.
      const y = await model.executeAsync(feed);
      return Array.isArray(y) ? y : [y];
    };
  }
  if (kind === 'saved_model') {
    const model = await tf.node.loadSavedModel(path.resolve(dir));
    return async (named) => {
      // The signature's input keys are Keras's input names; predict checks them.
      const y = model.predict(named);
      if (y instanceof tf.Tensor) return [y];
      return Array.isArray(y) ? y : Object.keys(y).sort().map((k) => y[k]);
    };
  }
  throw new Error(`unknown kind ${kind}`);
}

async function attempt(p, model) {
  const r = { loads: false, maxAbsError: null, error: null, stage: null };
  let run = null;
  try {
    run = await load(p.kind, p.dir);
    r.loads = true;
  } catch (e) {
    r.stage = 'load';
    r.error = firstLine(e);
  }
  if (run) {
    const named = tensorsFor(model.inputs);
    try {
      const ys = await run(named);
      r.maxAbsError = maxAbsError(ys, model.reference);
      ys.forEach((t) => t.dispose());
    } catch (e) {
      r.stage = 'predict';
      r.error = firstLine(e);
    }
    Object.values(named).forEach((t) => t.dispose());
  }
  return r;
}

const results = {
  environment: {
    tensorflow: jobs.tensorflow,
    keras: jobs.keras,
    tf_keras: jobs.tf_keras,
    tensorflowjs: jobs.tensorflowjs,
    tfjs: tf.version.tfjs,
    'tfjs-node': tf.version['tfjs-node'],
    node: process.version,
  },
  models: [],
};

for (const model of jobs.models) {
  const row = { name: model.name, paths: {} };
  for (const [key, p] of Object.entries(model.paths)) {
    const r = { loads: false, maxAbsError: null, error: null, stage: null };
    for (const extra of ['loadNativeKeras', 'tfKerasMaxAbsError']) {
      if (extra in p) r[extra] = p[extra];
    }
    if (p.convertError) {
      r.stage = 'convert';
      r.error = p.convertError;
    } else {
      // tfjs-node's native backend first (the one the table reports), then TF.js's pure-JS CPU
      // backend, the one a browser falls back to (not for SavedModels, which are native only).
      const backends = p.kind === 'saved_model' ? ['tensorflow'] : ['tensorflow', 'cpu'];
      for (const backend of backends) {
        await tf.setBackend(backend);
        const res = await attempt(p, model);
        if (backend === 'tensorflow') Object.assign(r, res);
        else r.cpu = { maxAbsError: res.maxAbsError, stage: res.stage, error: res.error };
      }
      await tf.setBackend('tensorflow');
    }
    row.paths[key] = r;
  }
  results.models.push(row);
}

fs.writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
