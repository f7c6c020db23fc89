// bench/ort_profile.mjs — run an ONNX model that `aelab bench --onnx-graphs DIR` saved (a
// training step of one model) under ONNX Runtime's own session options and profiler, to see
// what each op costs and what threads, spinning, optimisation level and layouts are worth.
//
//   node bench/ort_profile.mjs --ort ORTDIR MODEL.onnx [--iters 20] [--warmup 3] [--threads 2]
//        [--spin 1] [--opt all|layout|extended|basic|disabled] [--mode sequential|parallel]
//        [--arena 1] [--profile] [--top 25] [--dump-optimized FILE.onnx] [--vs KEY=VALUE,...]
//
// ORTDIR holds node_modules/onnxruntime-node and onnxruntime-common, unpacked from
// `npm pack onnxruntime-node@1.30.0 onnxruntime-common@1.30.0` (not `npm install`: its install
// script downloads); the same ORT release as the library aelab loads. Inputs are filled with
// small positive values (no denormals, no NaN): the ops' cost does not depend on them.
// It prints the mean, min and max wall time of a run; with --profile, the ONNX Runtime
// profile's kernel time per op type and per node, per run, with their shares. --vs opens a
// second session of the same model with some options changed (e.g. --vs threads=1,spin=0) and
// alternates runs of the two, so both meet the same load; it prints both and their ratio.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const opt = { iters: 20, warmup: 3, threads: 0, spin: '1', opt: 'all', mode: 'sequential', arena: '1', profile: false, top: 25 };
let model = '', ortDir = '', dumpOptimized = '', vs = '';
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const next = () => { if (i + 1 >= args.length) { console.error(`${a} needs a value`); process.exit(2); } return args[++i]; };
  switch (a) {
    case '--ort': ortDir = next(); break;
    case '--iters': opt.iters = Number(next()); break;
    case '--warmup': opt.warmup = Number(next()); break;
    case '--threads': opt.threads = Number(next()); break;
    case '--spin': opt.spin = next(); break;
    case '--opt': opt.opt = next(); break;
    case '--mode': opt.mode = next(); break;
    case '--arena': opt.arena = next(); break;
    case '--profile': opt.profile = true; break;
    case '--top': opt.top = Number(next()); break;
    case '--dump-optimized': dumpOptimized = next(); break;
    case '--vs': vs = next(); break;
    default:
      if (a.startsWith('--') || model) { console.error(`unknown argument ${a}`); process.exit(2); }
      model = a;
  }
}
if (!model || !ortDir) {
  console.error('usage: node bench/ort_profile.mjs --ort ORTDIR MODEL.onnx [options] (see the head of this file)');
  process.exit(2);
}
const ort = createRequire(path.join(path.resolve(ortDir), 'noop.js'))('onnxruntime-node');

function sessionOptions(o, profile) {
  const options = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: o.opt,
    executionMode: o.mode,
    enableCpuMemArena: o.arena === '1',
    enableProfiling: profile,
    profileFilePrefix: path.join(path.dirname(path.resolve(model)), path.basename(model, '.onnx') + '-profile'),
    extra: { session: { intra_op: { allow_spinning: o.spin } } },
  };
  if (o.threads > 0) options.intraOpNumThreads = o.threads;
  return options;
}
const options = sessionOptions(opt, opt.profile);
if (dumpOptimized) options.optimizedModelFilePath = dumpOptimized;
const describe = (o) => `threads ${o.threads || 'default'}, spin ${o.spin}, opt ${o.opt}, mode ${o.mode}, arena ${o.arena}`;

const session = await ort.InferenceSession.create(model, options);
let other = null, otherOpt = null;
if (vs) {
  otherOpt = { ...opt };
  for (const kv of vs.split(',')) {
    const [k, v] = kv.split('=');
    if (!(k in otherOpt) || v === undefined) { console.error(`--vs: unknown option ${kv}`); process.exit(2); }
    otherOpt[k] = typeof opt[k] === 'number' ? Number(v) : v;
  }
  other = await ort.InferenceSession.create(model, sessionOptions(otherOpt, false));
}
const feeds = {};
for (const m of session.inputMetadata) {
  const dims = m.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
  const n = dims.reduce((a, b) => a * b, 1);
  let data;
  switch (m.type) {
    case 'float32': data = Float32Array.from({ length: n }, (_, i) => 0.01 + 0.09 * ((i * 2654435761) % 1000) / 1000); break;
    case 'float64': data = Float64Array.from({ length: n }, () => 0.05); break;
    case 'int64': data = new BigInt64Array(n).fill(1n); break;
    case 'int32': data = new Int32Array(n).fill(1); break;
    case 'bool': data = new Uint8Array(n).fill(1); break;
    default: console.error(`input ${m.name}: type ${m.type} not handled`); process.exit(1);
  }
  feeds[m.name] = new ort.Tensor(m.type, data, dims);
}

const times = [], otherTimes = [];
const timed = async (s) => { const t0 = process.hrtime.bigint(); await s.run(feeds); return Number(process.hrtime.bigint() - t0) / 1e6; };
for (let i = 0; i < opt.warmup + opt.iters; i++) {
  const ms = await timed(session);
  const otherMs = other ? await timed(other) : 0;
  if (i >= opt.warmup) { times.push(ms); otherTimes.push(otherMs); }
}
const stats = (ts) => {
  const mean = ts.reduce((a, b) => a + b, 0) / ts.length;
  return { mean, text: `mean ${mean.toFixed(2)} ms, min ${Math.min(...ts).toFixed(2)} ms, max ${Math.max(...ts).toFixed(2)} ms` };
};
const a = stats(times);
console.log(`${path.basename(model)}: ${times.length} runs, ${a.text} (${describe(opt)})`);
if (other) {
  const b = stats(otherTimes);
  console.log(`${path.basename(model)}: ${times.length} runs, ${b.text} (${describe(otherOpt)}), interleaved: ratio ${(b.mean / a.mean).toFixed(3)}`);
}

if (opt.profile) {
  const file = session.endProfiling ? await session.endProfiling() : '';
  await session.release();
  const profile = findProfile(file, options.profileFilePrefix);
  const events = JSON.parse(fs.readFileSync(profile, 'utf8'));
  const runs = opt.warmup + opt.iters;
  const byOp = new Map(), byNode = new Map();
  let total = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const op = e.args?.op_name ?? '?', node = e.name.replace(/_kernel_time$/, '');
    add(byOp, op, e.dur); add(byNode, `${node} (${op}) ${shapeOf(e.args)}`, e.dur);
    total += e.dur;
  }
  const show = (title, m) => {
    console.log(`\n${title}: kernel time per run (of ${(total / runs / 1000).toFixed(2)} ms)`);
    for (const [k, v] of [...m.entries()].sort((a, b) => b[1].dur - a[1].dur).slice(0, opt.top)) {
      console.log(`${(v.dur / runs / 1000).toFixed(3).padStart(9)} ms ${(100 * v.dur / total).toFixed(1).padStart(5)} %  ${String(v.n / runs).padStart(4)}×  ${k}`);
    }
  };
  show('by op type', byOp);
  show('by node', byNode);
  console.log(`\nprofile: ${profile}`);
}

function add(m, k, dur) { const v = m.get(k) ?? { dur: 0, n: 0 }; v.dur += dur; v.n++; m.set(k, v); }
function shapeOf(a) {
  const s = (x) => (x ?? []).map((t) => JSON.stringify(Object.values(t)[0])).join(',');
  return a?.input_type_shape ? `${s(a.input_type_shape)} -> ${s(a.output_type_shape)}` : '';
}
function findProfile(file, prefix) {
  if (file && fs.existsSync(file)) return file;
  const dir = path.dirname(prefix), base = path.basename(prefix);
  const found = fs.readdirSync(dir).filter((f) => f.startsWith(base) && f.endsWith('.json')).sort();
  if (!found.length) { console.error('no profile file written'); process.exit(1); }
  return path.join(dir, found[found.length - 1]);
}
