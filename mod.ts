/**
 * secateur: post-training pruning of large language models in pure TypeScript.
 *
 * The public surface is re-exported here by name. Each group points at the folder that holds it.
 *
 * @module
 */

// tensor: the Matrix type, ndarray bridge, seeded RNG
export {
  checkMask,
  checkMatrix,
  cloneMatrix,
  fromRows,
  matrix,
  rowView,
  transpose,
} from "./src/tensor/matrix.ts";
export type { Matrix } from "./src/tensor/matrix.ts";
export { fromNdarray, toNdarray } from "./src/tensor/ndarray.ts";
export { createRng, randn } from "./src/tensor/rng.ts";
export type { Rng } from "./src/tensor/rng.ts";

// check: numeric comparison for tests and other backends
export { allClose, assertAllClose } from "./src/check/all_close.ts";
export type { AllCloseReport, Tolerance } from "./src/check/all_close.ts";

// parallel: the worker pool and row-parallel matrix products (branch pool, issue 6)
export {
  createPool,
  defaultPoolSize,
  isShared,
  sharedFloat32,
  sharedMemoryAvailable,
  splitRange,
  toShared,
} from "./src/parallel/pool.ts";
export type { MapOptions, Pool, PoolOptions } from "./src/parallel/pool.ts";
export {
  matmulParallel,
  matmulTransBParallel,
  MIN_PARALLEL_FLOPS,
  ROW_ALIGN,
} from "./src/parallel/matmul_parallel.ts";
export type { ParallelMatmulOptions } from "./src/parallel/matmul_parallel.ts";

// io (helper "io"): safetensors read/write/stream, half-precision conversion
export {
  openSafetensors,
  parseSafetensorsHeader,
  readSafetensors,
  SAFETENSORS_DTYPE_BYTES,
  SAFETENSORS_MAX_HEADER_BYTES,
  safetensorsChunks,
  safetensorsLayout,
  writeSafetensors,
} from "./src/io/safetensors.ts";
export type {
  ByteSource,
  SafetensorsDtypeOut,
  SafetensorsEntry,
  SafetensorsFile,
  SafetensorsHeader,
  SafetensorsIndex,
  SafetensorsReader,
  SafetensorsReadOptions,
  SafetensorsSpec,
  SafetensorsTensorInfo,
} from "./src/io/safetensors.ts";
export {
  bf16BitsFromNumber,
  bf16ToFloat32,
  f16BitsFromNumber,
  f16ToFloat32,
  float32ToBf16,
  float32ToF16,
  numberFromBf16Bits,
  numberFromF16Bits,
} from "./src/io/half.ts";
export { findDuplicateKey } from "./src/io/json_duplicates.ts";
export type { DuplicateKey } from "./src/io/json_duplicates.ts";
export {
  hfLlamaConfigJson,
  hfLlamaTensorSpecs,
  llamaFromHf,
  llamaFromHfReader,
  llamaToHf,
  parseHfLlamaConfig,
  permuteForHfRope,
  unpermuteFromHfRope,
} from "./src/io/hf_llama.ts";
export type { HfTensorFile, HfTensorSpec, LlamaToHfOptions } from "./src/io/hf_llama.ts";
// Hugging Face folders (#15): config helpers, the lazy folder reader, dtype conversion
export {
  checkNoSlidingWindow,
  configBool,
  configDtype,
  configHeadDim,
  configInt,
  configNumber,
  configPositive,
  configString,
  parseConfigJson,
  readRopeSettings,
  ropeInverseFrequencies,
  unsupported,
} from "./src/io/hf_config.ts";
export type { Json, RopeDefaults, RopeScaling, RopeSettings } from "./src/io/hf_config.ts";
export {
  COMPANION_FILES,
  INDEX_FILE,
  memoryFolder,
  openHfFolder,
  parseShardIndex,
  SINGLE_FILE,
} from "./src/io/hf_folder.ts";
export type {
  FolderSource,
  HfFolder,
  ShardIndex,
  TensorInfo,
  TensorStore,
} from "./src/io/hf_folder.ts";
export { fromFloat32, toFloat32 } from "./src/io/dtype.ts";
export { hfTokenizer, llama2cTextTokenizer } from "./src/io/text_tokenizer.ts";
export type { TextTokenizer } from "./src/io/text_tokenizer.ts";
export { createHfWriter, hfOutputFiles, MASKS_FILE, memorySink } from "./src/io/hf_write.ts";
export type { FileSink, FolderSink, HfWriter, HfWriterOptions } from "./src/io/hf_write.ts";
export type { FloatDtype } from "./src/io/dtype.ts";

// model helper (branch `model`): llama2.c checkpoints, tokenizer, Llama forward pass, perplexity
export { LLAMA2C_MAGIC, readLlama2c, ropeTables, writeLlama2c } from "./src/io/llama2c.ts";
export type { ReadLlama2cOptions } from "./src/io/llama2c.ts";
export {
  BOS_ID,
  decode,
  encode,
  encodeReference,
  encoderStream,
  EOS_ID,
  readTokenizer,
} from "./src/io/tokenizer.ts";
export type { EncodeOptions, EncoderStream, Tokenizer } from "./src/io/tokenizer.ts";
export { LINEAR_NAMES } from "./src/model/weights.ts";
export type { LinearName, LlamaBlock, LlamaConfig, LlamaWeights } from "./src/model/weights.ts";
export {
  blockForward,
  embed,
  forward,
  forwardReference,
  logits,
  referenceDecoder,
  tinyLlama,
} from "./src/model/llama.ts";
export type { ReferenceDecoder } from "./src/model/llama.ts";
// model families: one file each behind the Family interface, the registry, any family's forward
export { llamaFamily } from "./src/model/llama.ts";
export { qwen2Family } from "./src/model/qwen2.ts";
export { gptNeoXFamily, tinyGptNeoX } from "./src/model/gpt_neox.ts";
export type { GptNeoXBlock, GptNeoXConfig, GptNeoXWeights } from "./src/model/gpt_neox.ts";
export { optFamily, tinyOpt } from "./src/model/opt.ts";
export type { OptBlock, OptConfig, OptWeights } from "./src/model/opt.ts";
export { distinctInputs, intraLayerGroups, linearOf } from "./src/model/family.ts";
export type {
  Block,
  Family,
  ForwardHooks,
  HfFamily,
  LinearSpec,
  Model,
  ModelConfig,
} from "./src/model/family.ts";
export { FAMILIES, familyForHfConfig, familyOf } from "./src/model/families.ts";
export { forward as forwardModel, linearsOf, widestLinearInput } from "./src/model/model.ts";
export { readHfModel } from "./src/io/hf_model.ts";
export { runBlockWindows } from "./src/pipeline/block_run.ts";
export { perplexity, tokenNll } from "./src/eval/perplexity.ts";
export type { PerplexityOptions, PerplexityResult } from "./src/eval/perplexity.ts";
// core (branch core, issue 2): scores, selectors, masks and the method registry
export { magnitudeScores, magnitudeScoresReference } from "./src/score/magnitude.ts";
export {
  checkColNorms,
  columnNorms,
  columnNormsReference,
  wandaScores,
  wandaScoresReference,
} from "./src/score/wanda.ts";
export {
  SWIFTPRUNE_DEFAULT_EPS,
  swiftPruneScores,
  swiftPruneScoresReference,
} from "./src/score/swiftprune.ts";
export type { SwiftPruneCalibration, SwiftPruneOptions, XStat } from "./src/score/swiftprune.ts";
export { checkSelection, selectBySort } from "./src/select/sort.ts";
export { checkNM, nmMask, nmMaskReference } from "./src/select/nm.ts";
export {
  EWMA_DEFAULTS,
  keyOf,
  locateThreshold,
  scoreBits,
  scoreOfKey,
  selectEwma,
  selectEwmaTrace,
} from "./src/select/ewma.ts";
export type { EwmaOptions, EwmaSelection, EwmaTrace, ThresholdBracket } from "./src/select/ewma.ts";
export { selectEwmaExact, selectSmallest } from "./src/select/ewma_exact.ts";
export { applyMask, buildMask } from "./src/select/mask.ts";
export {
  checkSelectMode,
  checkSparsity,
  checkTarget,
  DEFAULT_GROUP,
  DEFAULT_SPARSITY,
  GROUPS,
  parseTarget,
  SELECT_MODES,
  targetText,
} from "./src/select/target.ts";
export type { Group, SelectMode, Target } from "./src/select/target.ts";
export type { MaskOptions, MaskResult } from "./src/select/mask.ts";
export { isRegistered, methodByName, methodNames, METHODS } from "./src/prune/methods.ts";
export {
  appliedOptions,
  finiteAtLeastZero,
  intAtLeast,
  oneOf,
  optionsFromFlags,
  scoreThenSelect,
  SELECT_OPTION,
} from "./src/prune/method.ts";
export type {
  MethodDescriptor,
  MethodInfo,
  MethodOption,
  MethodOptions,
  RowSplit,
  ScoreMethodSpec,
  ScoreSelectInfo,
} from "./src/prune/method.ts";
export type { LayerCalibration, PruneResult } from "./src/prune/types.ts";
// linalg + SparseGPT (branch sgpt): fast matmul/Gram kernels, Cholesky family, SparseGPT
export {
  gemmAccumulate,
  gemmAccumulateReference,
  gramAccumulate,
  gramAccumulateReference,
  matmul,
  matmulInto,
  matmulReference,
  matmulTransB,
  matmulTransBInto,
  matmulTransBReference,
  stridedView,
} from "./src/linalg/matmul.ts";
export type { GemmOptions, StridedMatrix } from "./src/linalg/matmul.ts";
export {
  cholesky,
  choleskyInverse,
  choleskyInverseReference,
  choleskyReference,
  lowerTriangularInverse,
  lowerTriangularInverseReference,
  NotPositiveDefiniteError,
  upperCholeskyOfInverse,
  upperCholeskyOfInverseReference,
} from "./src/linalg/cholesky.ts";
export type { CholeskyOptions } from "./src/linalg/cholesky.ts";
export {
  HessianAccumulator,
  sparsegpt,
  sparsegptHessian,
  sparsegptReference,
} from "./src/prune/sparsegpt.ts";
export type { SparseGptOptions, SparseGptResult } from "./src/prune/sparsegpt.ts";

// --- fista helper: power iteration, the FISTA LASSO solver, FISTAPruner (issue 7) ---
export { largestEigenvalue, largestEigenvalueReference } from "./src/linalg/power_iteration.ts";
export type { PowerIterationOptions } from "./src/linalg/power_iteration.ts";
export { fista, fistaReference, lassoObjective } from "./src/optim/fista.ts";
export type { FistaOptions, FistaResult } from "./src/optim/fista.ts";
export {
  fistaGramAccumulator,
  fistaPruner,
  layerErrorReference,
  roundByMagnitude,
} from "./src/prune/fistapruner.ts";
export type { FistaGrams, FistaPrunerOptions } from "./src/prune/fistapruner.ts";

// conformance (branch conf, issue 9): the suite other backends check themselves against
export {
  boundaryGap,
  buildSuite,
  CONFORMANCE_METHODS,
  ewmaCountTolerance,
  SCORE_TOLERANCE,
} from "./src/conformance/cases.ts";
export type {
  ConformanceMethod,
  ExpectedOutputs,
  Suite,
  SuiteOptions,
} from "./src/conformance/cases.ts";
export {
  handDataset,
  realLayerDataset,
  syntheticDatasets,
  tiesDataset,
} from "./src/conformance/datasets.ts";
export type { Dataset } from "./src/conformance/datasets.ts";
export {
  CONFORMANCE_FORMAT,
  CONFORMANCE_VERSION,
  parseManifest,
  pruneLayerArgs,
} from "./src/conformance/manifest.ts";
export type {
  ConformanceCase,
  ConformanceManifest,
  DatasetEntry,
  TensorCheck,
} from "./src/conformance/manifest.ts";
export { compareCase, formatCaseReport, OUTPUT_DTYPES } from "./src/conformance/compare.ts";
export type { CaseReport, Position, Tensor, TensorReport } from "./src/conformance/compare.ts";

// pipeline (branch pipe): calibration windows, block-by-block pruning, the per-layer report
export {
  corpusPieces,
  corpusText,
  detectCorpusFormat,
  sampleWindows,
} from "./src/pipeline/calibration.ts";
export type { CorpusFormat, WindowOptions } from "./src/pipeline/calibration.ts";
export { pruneModel } from "./src/pipeline/prune_model.ts";
export type { PruneModelOptions, PruneModelResult } from "./src/pipeline/prune_model.ts";
export {
  evaluateLayer,
  gramOf,
  maskAgreement,
  relativeLayerError,
  relativeLayerErrorFromGram,
} from "./src/pipeline/layer_report.ts";
export type { LayerReport } from "./src/pipeline/layer_report.ts";

// speed (branch speed, issue 6): forward passes split by windows, row-parallel pruning of a layer,
// the pipeline on workers
export {
  blockForwardWindows,
  DISTINCT_INPUTS,
  INPUT_OF,
  perplexityParallel,
  shareWeights,
  windowNllsTask,
} from "./src/parallel/forward_parallel.ts";
export type {
  BlockWindowsOptions,
  BlockWindowsRun,
  DistinctInput,
} from "./src/parallel/forward_parallel.ts";
export {
  buildMaskParallel,
  maskRowsTask,
  MIN_PARALLEL_WEIGHTS,
  pruneLayerParallel,
  pruneRowsTask,
  TASKS_PER_WORKER,
} from "./src/parallel/prune_parallel.ts";
export type { RowParallelOptions } from "./src/parallel/prune_parallel.ts";
export { perplexityWindows } from "./src/eval/perplexity.ts";
export { pruneModelParallel } from "./src/parallel/prune_model_parallel.ts";
export { pruneModelSteps, runPruneStep } from "./src/pipeline/prune_model.ts";
export type {
  BlockRun,
  BlockStep,
  LayerStep,
  PruneStep,
  PruneStepResult,
} from "./src/pipeline/prune_model.ts";
// --- selspeed: selectors that write into a caller's mask (e.g. a row view of a layer's mask) ---
export { checkKeep, selectEwmaInto } from "./src/select/ewma.ts";
export { selectEwmaExactInto } from "./src/select/ewma_exact.ts";

// --- hostile inputs (branch fuzz): NaN/infinity detection ---
export {
  assertFinite,
  assertFiniteInputs,
  assertFiniteWeights,
  findNonFinite,
  NonFiniteInputError,
} from "./src/check/finite.ts";

// fmodel (branch fmodel, issue 7): FISTAPruner's blocks pruned in parallel with dense inputs
export { blockAccumulator, modelResult, pruneBlockSteps } from "./src/pipeline/prune_model.ts";
export type { BlockAccumulator } from "./src/pipeline/prune_model.ts";
export {
  blocksRunInParallel,
  pruneBlocksParallel,
  pruneBlockTask,
} from "./src/parallel/prune_blocks_parallel.ts";
export type { BlockTaskOptions, BlockTaskResult } from "./src/parallel/prune_blocks_parallel.ts";

// memory (issue #8): reusable forward buffers, freeing dead arrays at once, the activation count
export { blockActivationCount } from "./src/model/llama.ts";
export { fittingWorkspace, forwardWorkspace, threadWorkspace } from "./src/model/workspace.ts";
export type { ForwardWorkspace } from "./src/model/workspace.ts";
export { release, releaseTiled, reuseShared } from "./src/tensor/release.ts";

// simd (issue #18): WebAssembly SIMD kernels emitted from TypeScript, the kernel switch
export { availableKernels, KERNEL_SETS, kernels, setKernels } from "./src/linalg/kernels.ts";
export type { KernelSet } from "./src/linalg/kernels.ts";
export {
  GEMM_MODULE_BYTES,
  gemmAccumulateSimd,
  linearF32Reference,
  linearF32Simd,
  simdAvailable,
} from "./src/linalg/gemm_simd.ts";
export { linearInto } from "./src/linalg/matmul.ts";
export { causalAttentionSimd } from "./src/model/attention_simd.ts";
export { packPanels } from "./src/linalg/pack.ts";
