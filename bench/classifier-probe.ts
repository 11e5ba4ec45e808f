// Child process of the classifier bench: loads the encoder, trains the fused model on all of
// BANKING77 (embeddings from the bench cache, as a worker would get them at its own start-up),
// classifies short messages one at a time on one thread, and prints latency and peak RSS as one
// JSON line. Run alone so the parent's datasets and earlier suites do not inflate the figures.
// The parent compiles this file (with what it imports) to JavaScript first and runs it on plain
// node, as `npm start` runs the worker; under tsx the TypeScript loader adds ~35 MB of its own.
// Must not write anything but the embedding cache (bench/embedding-cache.ts).
import { readFileSync } from 'node:fs';
import { fuseWithVectors } from '../activities/triage/classifier-fused.js';
import { loadSentenceEncoder } from '../activities/triage/encoder.js';
import { trainOfflineClassifier } from '../activities/triage/offline-classifier.js';
import { bankingRows, taxonomyFromRows } from './classifier.js';
import { embedAll } from './embedding-cache.js';

export interface ProbeResult {
  loadSeconds: number;
  trainSeconds: number;
  p50Ms: number;
  p90Ms: number;
  cpuMsPerMessage: number;
  baselineRssMb: number;
  peakRssMb: number;
  modelVersion: string;
  tfidfMessagesPerSecond: number;
}

const cpuSeconds = (started: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(started);
  return (d.user + d.system) / 1e6;
};

/**
 * Peak resident set of this process in MB. Linux's VmHWM, because getrusage's maxRSS survives
 * exec: a child spawned from a big parent would report the parent's peak.
 */
export function peakRssMb(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m?.[1] !== undefined) return Number(m[1]) / 1024;
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS / 1024;
}

export async function runProbe(dataDir: string, modelDirectory: string): Promise<ProbeResult> {
  const baselineRssMb = peakRssMb();
  const rows = bankingRows(dataDir);
  const t0 = process.cpuUsage();
  const encoder = await loadSentenceEncoder(modelDirectory, { threads: 1 });
  const loadSeconds = cpuSeconds(t0);
  const vectors = await embedAll(encoder, 'banking77', rows.map((r) => r.text));
  const started = process.cpuUsage();
  const taxonomy = taxonomyFromRows('banking77', rows);
  // As trainFusedClassifier does: the lookup (views into the cache file's buffer) goes once the model has copied it.
  const model = fuseWithVectors(taxonomy, encoder.modelVersion, encoder.dimension, (t) => vectors.get(t)!, { releaseVectors: () => vectors.clear() });
  const trainSeconds = cpuSeconds(started);
  // Messages the encoder has not seen (its cache would make repeats free): BANKING77 texts with a
  // distinct suffix, short like a tweet or chat line.
  const texts = rows.slice(0, 600).map((r, i) => `${r.text} (ref ${i})`);
  for (const t of texts.slice(0, 50)) model.classifyEmbedded(t, (await encoder.embed([t]))[0]!);
  const lat: number[] = [];
  const cpu0 = process.cpuUsage();
  let sink = 0;
  for (const t of texts.slice(50)) {
    const s = performance.now();
    const [v] = await encoder.embed([t]);
    sink += model.classifyEmbedded(t, v!).confidence;
    lat.push(performance.now() - s);
  }
  const cpuMsPerMessage = (cpuSeconds(cpu0) * 1000) / lat.length;
  if (Number.isNaN(sink)) throw new Error('unreachable: keeps the loop from being optimised away');
  lat.sort((a, b) => a - b);
  const peak = peakRssMb();
  // TF-IDF alone for reference (the path when models/ is absent).
  const tfidf = trainOfflineClassifier(taxonomy);
  const c1 = process.cpuUsage();
  for (const r of rows) tfidf.classifySync(r.text);
  const tfidfMessagesPerSecond = rows.length / cpuSeconds(c1);
  return {
    loadSeconds,
    trainSeconds,
    p50Ms: lat[Math.floor(lat.length / 2)]!,
    p90Ms: lat[Math.floor(lat.length * 0.9)]!,
    cpuMsPerMessage,
    baselineRssMb,
    peakRssMb: peak,
    modelVersion: model.modelVersion,
    tfidfMessagesPerSecond,
  };
}

const [, entry, dataDir, modelDirectory] = process.argv;
if (entry !== undefined && /classifier-probe\.[jt]s$/.test(entry) && dataDir !== undefined && modelDirectory !== undefined) {
  console.log(JSON.stringify(await runProbe(dataDir, modelDirectory)));
}
