// Runs the original TF.js NanoDet graph model with pure-JavaScript @tensorflow/tfjs (CPU
// backend) and saves its input and outputs as raw float32 files, so that
// `nanodet-convert check` can compare the converted TorchScript module with them.
//
//   node check_tfjs.mjs <dir with nanodet.json + nanodet.bin> <out dir> [<frame.rgb> <width> <height>]
//
// With a frame (packed RGB bytes) the input is prepared as @vladmandic/human does for this
// model (src/object/nanodet.ts): bilinear resize to the model size, / 255, channels first.
// Without one, a fixed synthetic pattern is used. TFJS_MODULES names the node_modules folder
// that holds @tensorflow/tfjs (default: <repo>/.deps/node/node_modules).
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const modules = process.env.TFJS_MODULES || resolve(here, '../../.deps/node/node_modules');
const require = createRequire(join(modules, 'noop.js'));
const tf = require('@tensorflow/tfjs');

const [modelDir, outDir, framePath, widthArg, heightArg] = process.argv.slice(2);
if (!modelDir || !outDir) {
  console.error('usage: node check_tfjs.mjs <model dir> <out dir> [<frame.rgb> <width> <height>]');
  process.exit(2);
}

await tf.setBackend('cpu');
const modelJson = JSON.parse(readFileSync(join(modelDir, 'nanodet.json'), 'utf8'));
const shards = modelJson.weightsManifest.flatMap((group) => group.paths)
  .map((p) => readFileSync(join(modelDir, p)));
const weightData = Buffer.concat(shards);
const model = await tf.loadGraphModel({
  load: async () => ({
    modelTopology: modelJson.modelTopology,
    format: modelJson.format,
    generatedBy: modelJson.generatedBy,
    convertedBy: modelJson.convertedBy,
    signature: modelJson.signature,
    weightSpecs: modelJson.weightsManifest.flatMap((group) => group.weights),
    weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
  }),
});
const size = model.inputs[0].shape[2];

let input;
if (framePath) {
  const width = Number(widthArg);
  const height = Number(heightArg);
  const rgb = readFileSync(framePath);
  if (rgb.length !== width * height * 3) {
    throw new Error(`${framePath} has ${rgb.length} bytes, ${width}x${height} RGB needs ${width * height * 3}`);
  }
  input = tf.tidy(() => {
    const image = tf.tensor3d(new Uint8Array(rgb), [height, width, 3], 'int32').toFloat().expandDims(0);
    const resized = tf.image.resizeBilinear(image, [size, size], false);
    return tf.transpose(tf.div(resized, 255), [0, 3, 1, 2]);
  });
} else {
  // Smooth colour ramps plus a checkerboard: varied, reproducible, inside [0, 1].
  input = tf.tidy(() => {
    const y = tf.linspace(0, 1, size).reshape([1, 1, size, 1]);
    const x = tf.linspace(0, 1, size).reshape([1, 1, 1, size]);
    const checker = tf.mod(tf.floor(tf.mul(x, 26)).add(tf.floor(tf.mul(y, 26))), 2);
    const r = tf.mul(x, y).mul(0.8).add(checker.mul(0.2));
    const g = tf.sub(1, x).mul(0.7).add(checker.mul(0.1));
    const b = tf.sin(tf.mul(y, 9)).mul(0.5).add(0.5).mul(0.9).add(tf.zeros([1, 1, 1, size]));
    return tf.concat([r, g, b], 1);
  });
}

const started = Date.now();
const outputs = model.execute(input);
const list = Array.isArray(outputs) ? outputs : [outputs];
const elapsed = Date.now() - started;

mkdirSync(outDir, { recursive: true });
const f32 = async (t) => Buffer.from((await t.data()).buffer);
writeFileSync(join(outDir, 'input.f32'), await f32(input));
const manifest = { input: { file: 'input.f32', shape: input.shape }, outputs: [] };
for (let i = 0; i < list.length; i++) {
  const name = model.outputNodes[i];
  const file = `output_${i}.f32`;
  writeFileSync(join(outDir, file), await f32(list[i]));
  manifest.outputs.push({ name, file, shape: list[i].shape });
}
writeFileSync(join(outDir, 'tfjs_outputs.json'), JSON.stringify(manifest, null, 2));

// Persons (class 0) above 0.35 on the finest stride, as a quick sanity line.
const stride8 = list.find((t) => t.shape[1] === (size / 8) ** 2 && t.shape[2] === 80);
const personScores = stride8 ? Array.from(await stride8.slice([0, 0, 0], [1, -1, 1]).data()) : [];
console.log(`tfjs ${tf.version.tfjs} (${tf.getBackend()}): ${list.length} outputs in ${elapsed} ms; `
  + `stride-8 cells with person score > 0.35: ${personScores.filter((s) => s > 0.35).length}`);
