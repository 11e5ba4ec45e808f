// The outcome model as a service the loop uses: loads the versioned model file (models/outcome/
// model.json by default, OUTCOME_MODEL to override), checks that the sentence encoder it was
// trained with is the one running, and predicts from a record (embedding the text through the
// encoder, whose cache usually already holds it from triage). Implements `OutcomePredictor`.
// Must not: fetch anything, fall back silently (a model that needs the encoder without one is a
// start-up error naming both), or keep per-message state.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LoopwrightError } from '../../workflows/domain/errors.js';
import type { TOutcomePrediction } from '../../workflows/domain/outcome.js';
import { defaultModelsDir } from '../triage/encoder.js';
import type { SentenceEncoder } from '../triage/ports.js';
import type { TOutcomeRecord } from './dataset.js';
import { deserializeOutcomeModel, serializeOutcomeModel, type OutcomeModel, type TSerializedOutcomeModel } from './model.js';

/** Predicts how a complaint will be resolved. */
export interface OutcomePredictor {
  readonly modelVersion: string;
  readonly model: OutcomeModel;
  predict(record: TOutcomeRecord): Promise<TOutcomePrediction>;
}

/** models/outcome/model.json at the repository root. */
export function defaultOutcomeModelPath(): string {
  return path.join(defaultModelsDir(), 'outcome', 'model.json');
}

export function readOutcomeModel(file: string): OutcomeModel {
  let parsed: TSerializedOutcomeModel;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as TSerializedOutcomeModel;
  } catch (e) {
    throw new LoopwrightError('invalid_config', `${file}: cannot read the outcome model (${(e as Error).message})`, { cause: e });
  }
  return deserializeOutcomeModel(parsed, file);
}

/** Writes atomically (temp file + rename), so a worker never reads half a model. */
export async function writeOutcomeModel(file: string, model: OutcomeModel): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, `${JSON.stringify(serializeOutcomeModel(model))}\n`);
  await rename(`${file}.tmp`, file);
}

export function createOutcomePredictor(model: OutcomeModel, encoder: SentenceEncoder | undefined, source = 'outcome model'): OutcomePredictor {
  if (model.meaning) {
    if (!encoder) throw new LoopwrightError('invalid_config', `${source} (${model.modelVersion}) needs the sentence encoder ${model.meaning.encoderVersion}, but none is loaded (models/ absent?)`);
    if (encoder.modelVersion !== model.meaning.encoderVersion) {
      throw new LoopwrightError('invalid_config', `${source} (${model.modelVersion}) was trained with encoder ${model.meaning.encoderVersion}, the loaded one is ${encoder.modelVersion}: retrain with loopwright train-outcome`);
    }
  }
  return {
    modelVersion: model.modelVersion,
    model,
    async predict(record: TOutcomeRecord): Promise<TOutcomePrediction> {
      const vector = model.meaning && encoder && record.text.trim() ? ((await encoder.embed([record.text]))[0] ?? null) : null;
      return model.predict(record, vector);
    },
  };
}

/**
 * The predictor the worker and the HTTP service start with: from `file` when given (an error when
 * it is missing), else from the default path when present; `undefined` when there is no model (the
 * loop then records no prediction and policy conditions on it fail closed), with a notice saying so.
 */
export function loadOutcomePredictor(encoder: SentenceEncoder | undefined, file?: string): { predictor?: OutcomePredictor; notice: string } {
  const target = file ?? defaultOutcomeModelPath();
  if (!existsSync(target)) {
    if (file) throw new LoopwrightError('invalid_config', `OUTCOME_MODEL=${file}: no such file`);
    return { notice: `outcome: no model at ${target}: no outcome predictions (train one with loopwright train-outcome)` };
  }
  const model = readOutcomeModel(target);
  if (!file && model.meaning && !encoder) {
    // The default model needs the encoder; running without models/ is allowed, so is running without predictions.
    return { notice: `outcome: ${target} (${model.modelVersion}) needs the sentence encoder, which is not loaded: no outcome predictions` };
  }
  const predictor = createOutcomePredictor(model, encoder, target);
  return { predictor, notice: `outcome: model ${model.modelVersion} (${model.training.outcomeRows} training rows ${model.training.from ?? '?'}..${model.training.to ?? '?'})` };
}
