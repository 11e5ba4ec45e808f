// `loopwright train-outcome FILE`: trains the resolution-outcome model from a labeled CSV or JSONL
// file (the CFPB export's columns as they are; other files through --map), prints a held-out
// evaluation on the newest rows (ROC-AUC, PR-AUC, macro-F1, calibration, against the
// structured-only baseline), then trains on all rows and writes the versioned model file.
// Must not: print complaint text, or write a model when the data cannot train one.
import { parseArgs } from 'node:util';
import { CFPB_MAPPING, parseColumnMapping, readOutcomeFile, type TOutcomeRecord } from '../../activities/outcome/dataset.js';
import { evaluateOutcomeModel, timeSplit, type TOutcomeEvaluation } from '../../activities/outcome/evaluate.js';
import { attachEvaluation, STRUCTURED_ONLY, trainOutcomeModel } from '../../activities/outcome/model.js';
import { defaultOutcomeModelPath, writeOutcomeModel } from '../../activities/outcome/predictor.js';
import { hasModel, loadSentenceEncoder, modelDir } from '../../activities/triage/encoder.js';
import type { TInputFormat } from '../../activities/triage/input-files.js';
import { isLoopwrightError } from '../../workflows/domain/errors.js';
import type { CliCommand, CliIo } from './types.js';

const USAGE = `usage: loopwright train-outcome [options] FILE

Train the resolution-outcome model (explanation / non-monetary relief / monetary relief, plus
timeliness risk) from a labeled CSV or JSONL file and write it as a versioned model file.

The CFPB complaint export is understood as it is (${CFPB_MAPPING.outcome}, ${CFPB_MAPPING.timely},
${CFPB_MAPPING.text}, Product, Issue, Company, ...). For other files map the columns:
  --map outcome=Resolution --map text=Body --map receivedAt=Created --map field.product=Product
keys: id, receivedAt, sentAt, text, outcome, timely, field.<product|sub_product|issue|sub_issue|
company|state|channel|tags|consent|sent_lag|tier|category>; "key=" removes a CFPB default.
Outcome cells may be CFPB phrases or explanation / non_monetary_relief / monetary_relief
("refund" counts as monetary relief); other rows only train the timeliness risk.

options:
  --out FILE          where to write the model (default: models/outcome/model.json)
  --map KEY=COLUMN    column mapping, repeatable (see above)
  --test-share N      newest share of rows held out for the printed evaluation (default 0.2; 0 skips it)
  --no-encoder        no sentence-embedding features (TF-IDF text only), e.g. without models/
  --format csv|jsonl  input format (default: from the file extension or content)
  --json              print the evaluation as one JSON object on stdout
  -h, --help          show this help
exit status: 0 model written, 1 failure, 2 usage error.
`;

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');

function describe(e: TOutcomeEvaluation, base: TOutcomeEvaluation): string[] {
  const o = e.perOutcome;
  return [
    `  relief vs explanation: ROC-AUC ${f3(e.reliefAuc)} (structured-only baseline ${f3(base.reliefAuc)}), PR-AUC ${f3(e.reliefPrAuc)} (base rate ${f3(e.reliefBase)})`,
    `  per outcome ROC-AUC / PR-AUC: explanation ${f3(o.explanation.rocAuc)}/${f3(o.explanation.prAuc)}, non-monetary ${f3(o.non_monetary_relief.rocAuc)}/${f3(o.non_monetary_relief.prAuc)}, monetary ${f3(o.monetary_relief.rocAuc)}/${f3(o.monetary_relief.prAuc)}`,
    `  macro-F1 ${f3(e.macroF1)} (baseline ${f3(base.macroF1)}), accuracy ${f3(e.accuracy)} (all-explanation would score ${f3(o.explanation.prevalence)})`,
    `  calibration: relief ECE ${f3(e.reliefEce)}, multiclass Brier ${f3(e.brier)}`,
    `  timeliness risk: ROC-AUC ${f3(e.timeliness.rocAuc)}, PR-AUC ${f3(e.timeliness.prAuc)} (${e.timeliness.untimely} untimely of ${e.timeliness.rows})`,
  ];
}

export const command: CliCommand = {
  name: 'train-outcome',
  summary: 'train the resolution-outcome model from labeled complaints (CFPB columns or --map)',
  async run(argv: string[], io: CliIo): Promise<number> {
    let v;
    try {
      v = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          out: { type: 'string' },
          map: { type: 'string', multiple: true },
          'test-share': { type: 'string' },
          'no-encoder': { type: 'boolean' },
          format: { type: 'string' },
          json: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      });
    } catch (e) {
      io.stderr.write(`loopwright train-outcome: ${(e as Error).message}\n${USAGE}`);
      return 2;
    }
    if (v.values.help) {
      io.stdout.write(USAGE);
      return 0;
    }
    const file = v.positionals[0];
    const testShare = v.values['test-share'] === undefined ? 0.2 : Number(v.values['test-share']);
    const format = v.values.format;
    if (!file || v.positionals.length > 1 || !(testShare >= 0 && testShare < 1) || (format !== undefined && format !== 'csv' && format !== 'jsonl')) {
      io.stderr.write(`loopwright train-outcome: ${!file ? 'FILE is required' : 'bad arguments'}\n${USAGE}`);
      return 2;
    }
    const out = v.values.out ?? defaultOutcomeModelPath();
    const say = (line: string) => io.stderr.write(`${line}\n`);
    try {
      const mapping = parseColumnMapping(v.values.map ?? []);
      const { records, errors } = await readOutcomeFile(file, mapping, format as TInputFormat | undefined);
      for (const e of errors.slice(0, 20)) say(`line ${e.line}: ${e.message}`);
      if (errors.length > 20) say(`... ${errors.length - 20} more unreadable rows`);
      const labeled = records.filter((r) => r.outcome !== null).length;
      say(`${records.length} rows read (${labeled} with a resolution outcome, ${records.filter((r) => r.text).length} with text, ${errors.length} unreadable)`);

      const useEncoder = !v.values['no-encoder'] && hasModel(modelDir());
      const encoder = useEncoder ? await loadSentenceEncoder(modelDir(), { cacheSize: 0 }) : undefined;
      let vectors: Array<Float32Array | null> | undefined;
      if (encoder) {
        say(`embedding ${records.filter((r) => r.text).length} texts with ${encoder.modelVersion} ...`);
        const texts = [...new Set(records.map((r) => r.text).filter((t) => t))];
        const embedded = await encoder.embed(texts);
        const byText = new Map(texts.map((t, i) => [t, embedded[i]!]));
        vectors = records.map((r) => (r.text ? (byText.get(r.text) ?? null) : null));
      } else {
        say(v.values['no-encoder'] ? 'sentence encoder off (--no-encoder)' : `no sentence encoder at ${modelDir()}: TF-IDF text features only`);
      }
      const common = { ...(encoder ? { encoderVersion: encoder.modelVersion } : {}) };

      let evaluation: { model: TOutcomeEvaluation; structuredOnly: TOutcomeEvaluation; cutoff: string | null } | undefined;
      if (testShare > 0) {
        const { train, test, cutoff } = timeSplit(records, testShare);
        const pick = <T>(xs: readonly T[] | undefined, idx: number[]) => (xs ? idx.map((i) => xs[i]!) : undefined);
        const trainRecs = pick(records, train) as TOutcomeRecord[];
        const trainVecs = pick(vectors, train);
        const held = trainOutcomeModel({ records: trainRecs, ...(trainVecs ? { vectors: trainVecs } : {}), ...common });
        const base = trainOutcomeModel({ records: trainRecs, config: STRUCTURED_ONLY });
        evaluation = { model: evaluateOutcomeModel(held, records, test, vectors), structuredOnly: evaluateOutcomeModel(base, records, test, undefined), cutoff };
        say(`held-out evaluation: trained on ${train.length} older rows, tested on ${test.length} from ${cutoff ?? 'the newest'} on`);
        for (const line of describe(evaluation.model, evaluation.structuredOnly)) say(line);
      }
      const trained = trainOutcomeModel({ records, ...(vectors ? { vectors } : {}), ...common });
      const e = evaluation?.model;
      const model =
        evaluation && e
          ? attachEvaluation(trained, {
              cutoff: evaluation.cutoff,
              testRows: e.outcomeRows,
              reliefAuc: e.reliefAuc,
              reliefPrAuc: e.reliefPrAuc,
              reliefBase: e.reliefBase,
              structuredOnlyAuc: evaluation.structuredOnly.reliefAuc,
              macroF1: e.macroF1,
              reliefEce: e.reliefEce,
              timelinessAuc: e.timeliness.rocAuc,
              reliability: e.reliability,
            })
          : trained;
      await writeOutcomeModel(out, model);
      say(`wrote ${out}: ${model.modelVersion} (${model.training.outcomeRows} outcome rows, ${model.training.timelinessRows} timeliness rows, ${model.dimension} features)`);
      say('strongest drivers of relief vs explanation:');
      for (const d of model.globalDrivers(8)) say(`  ${d.weight > 0 ? '+' : ''}${d.weight.toFixed(2)}  ${d.feature}`);
      if (v.values.json) {
        const strip = (e: TOutcomeEvaluation) => ({ ...e, reliefBy: undefined });
        io.stdout.write(
          `${JSON.stringify({ modelVersion: model.modelVersion, out, training: model.training, evaluation: evaluation ? { cutoff: evaluation.cutoff, model: strip(evaluation.model), structuredOnly: strip(evaluation.structuredOnly) } : null })}\n`,
        );
      }
      return 0;
    } catch (e) {
      io.stderr.write(`loopwright train-outcome: ${isLoopwrightError(e) ? e.message : e instanceof Error ? e.message : String(e)}\n`);
      return 1;
    }
  },
};
