// lstm as a library: everything the CLI does, callable from TypeScript. The CLI (src/cli,
// src/commands) is a thin layer over these functions; nothing here prints. Every function checks
// its arguments with the schemas the CLI checks its flags with (unknown keys are errors) and
// throws the same typed errors (UserError and its kinds), with exit codes the CLI would use.
//
//   const trained = await train({ hidden: 64, steps: 500, save: false }, 'notes.txt', { onEvent, signal });
//   for await (const ch of sample(trained, { length: 200, temperature: 0.8 })) process.stdout.write(ch);

// The engine core runs on Node's platform (src/platform/platform.ts), installed on import.
import './platform/node.js';

// Training: settings and a corpus in, a model, its history and typed events out.
export {
  train, TRAIN_DEFAULTS, TrainSpecSchema,
  type TrainSpec, type TrainHooks, type TrainResult, type TrainSummary, type TrainHistory,
  type TrainEvent, type ReadingEvent, type PreparedEvent, type WarningEvent, type StartEvent, type StepEvent,
  type EvalEvent, type SaveEvent, type SampleEvent, type EndEvent,
} from './train/run.js';

// Checkpoints: loading into a ready model, saving atomically, finding the newest.
export { loadCheckpoint, saveCheckpoint, latestCheckpoint, looksLikeCheckpoint, defaultCheckpointDir, type LoadedModel } from './io/load.js';
export { readCheckpoint, parseCheckpoint, CheckpointError, type Checkpoint, type TrainSettings } from './io/checkpoint.js';
export type { Schedule } from './io/checkpoint.js';

// Corpora: a file, standard input ('-'), the bundled default, or a string.
export { readCorpus, loadCorpus, corpusFromString, DEFAULT_CORPUS, type CorpusText, type Corpus } from './io/corpus.js';

// Using a model.
export {
  sample, generateMany, Generator, SAMPLE_DEFAULTS, MAX_WARMUP, MAX_SAMPLES, type SampleSettings, type ManyOptions,
} from './nn/generate.js';
export type { SampleOptions } from './nn/sampler.js';
export { Rng } from './nn/rng.js';
export { evaluate, type TextEvaluation } from './train/evaluate.js';
export { inspectGradients, type GradientProfile } from './inspect/gradients.js';
export { probe, readProbeSet, DEFAULT_PROBE, type ProbeSettings } from './probe/run.js';
export type { ProbeSet } from './probe/file.js';
export type { ProbeSummary, BinResult, StartMode } from './probe/candidates.js';
export {
  visualize, VISUALIZE_DEFAULTS, type VisualizeSettings, type VisualizeStage, type VisualizedModel, type Visualization, type ShownUnit,
} from './visualize/run.js';
export type { Recording, LayerRecording } from './visualize/record.js';
export type { Feature, NumericFeature, CategoricalFeature } from './visualize/features.js';
export type { FeatureScores, UnitScore, GateSaturation } from './visualize/units.js';
export type { NgramComparison } from './visualize/vs-ngram.js';

// The pieces underneath.
export { Model, CELL_TYPES, type CellType, type ModelConfig } from './nn/model.js';
export { Vocab } from './data/text.js';
export { BACKENDS, type BackendName } from './nn/backend.js';
export { UserError, SettingsError, OutputExistsError, BudgetError, OutOfMemoryError, OverflowError, Interrupted } from './errors.js';
