/**
 * secateur: post-training pruning of large language models in pure TypeScript.
 *
 * The public surface, grouped by concept; each group names the folder that holds it. Worker tasks,
 * the pipeline's step generator and memory helpers are internal (import them from `src/` if needed).
 *
 * @module
 */

// tensors: the Matrix type, the ndarray bridge, the seeded RNG
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

// checks: numeric comparison for tests and other backends, finiteness of weights and inputs
export { allClose, assertAllClose } from "./src/check/all_close.ts";
export type { AllCloseReport, Tolerance } from "./src/check/all_close.ts";
export {
  assertFinite,
  assertFiniteInputs,
  assertFiniteWeights,
  findNonFinite,
  NonFiniteInputError,
} from "./src/check/finite.ts";

// scores: one file per score-then-select method, its reference twin and its method descriptor
export {
  magnitudeMethod,
  magnitudeScores,
  magnitudeScoresReference,
} from "./src/score/magnitude.ts";
export {
  SWIFTPRUNE_DEFAULT_EPS,
  swiftpruneMethod,
  swiftPruneScores,
  swiftPruneScoresReference,
} from "./src/score/swiftprune.ts";
export type { SwiftPruneCalibration, SwiftPruneOptions, XStat } from "./src/score/swiftprune.ts";
export {
  checkColNorms,
  columnNorms,
  columnNormsReference,
  wandaColumnNorms,
  wandaMethod,
  wandaScores,
  wandaScoresReference,
} from "./src/score/wanda.ts";

// selection: the target, the selectors (sort, EWMA, exact EWMA, N:M), masks
export {
  checkKeep,
  EWMA_DEFAULTS,
  keyOf,
  locateThreshold,
  scoreBits,
  scoreOfKey,
  selectEwma,
  selectEwmaInto,
  selectEwmaTrace,
} from "./src/select/ewma.ts";
export type { EwmaOptions, EwmaSelection, EwmaTrace, ThresholdBracket } from "./src/select/ewma.ts";
export { selectEwmaExact, selectEwmaExactInto, selectSmallest } from "./src/select/ewma_exact.ts";
export { applyMask, buildMask } from "./src/select/mask.ts";
export type { MaskOptions, MaskResult } from "./src/select/mask.ts";
export { checkNM, nmMask, nmMaskReference } from "./src/select/nm.ts";
export { checkSelection, selectBySort } from "./src/select/sort.ts";
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

// methods: the method descriptor, the registry, SparseGPT, FISTAPruner and its LASSO solver
export { fista, fistaReference, lassoObjective } from "./src/optim/fista.ts";
export type { FistaOptions, FistaResult } from "./src/optim/fista.ts";
export {
  fistaGramAccumulator,
  fistaMethod,
  fistaPruner,
  layerErrorReference,
  roundByMagnitude,
} from "./src/prune/fistapruner.ts";
export type { FistaGrams, FistaInfo, FistaPrunerOptions } from "./src/prune/fistapruner.ts";
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
export { isRegistered, methodByName, methodNames, METHODS } from "./src/prune/methods.ts";
export {
  HessianAccumulator,
  sparsegpt,
  sparsegptHessian,
  sparsegptMethod,
  sparsegptReference,
} from "./src/prune/sparsegpt.ts";
export type { SparseGptInfo, SparseGptOptions, SparseGptResult } from "./src/prune/sparsegpt.ts";
export type { LayerCalibration, PruneResult } from "./src/prune/types.ts";

// linear algebra: products, Gram matrices, Cholesky, power iteration, the SIMD kernels
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
  GEMM_MODULE_BYTES,
  gemmAccumulateSimd,
  linearF32Reference,
  linearF32Simd,
  simdAvailable,
} from "./src/linalg/gemm_simd.ts";
export { availableKernels, KERNEL_SETS, kernels, setKernels } from "./src/linalg/kernels.ts";
export type { KernelSet } from "./src/linalg/kernels.ts";
export {
  gemmAccumulate,
  gemmAccumulateReference,
  gramAccumulate,
  gramAccumulateReference,
  linearInto,
  matmul,
  matmulInto,
  matmulReference,
  matmulTransB,
  matmulTransBInto,
  matmulTransBReference,
  stridedView,
} from "./src/linalg/matmul.ts";
export type { GemmOptions, StridedMatrix } from "./src/linalg/matmul.ts";
export { packPanels } from "./src/linalg/pack.ts";
export { largestEigenvalue, largestEigenvalueReference } from "./src/linalg/power_iteration.ts";
export type { PowerIterationOptions } from "./src/linalg/power_iteration.ts";

// models: the families (Llama, Qwen2, GPT-NeoX, OPT), one file each behind one interface, their forward pass
export { causalAttentionSimd } from "./src/model/attention_simd.ts";
export { FAMILIES, familyForHfConfig, familyOf } from "./src/model/families.ts";
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
export { gptNeoXFamily, tinyGptNeoX } from "./src/model/gpt_neox.ts";
export type { GptNeoXBlock, GptNeoXConfig, GptNeoXWeights } from "./src/model/gpt_neox.ts";
export {
  blockForward,
  embed,
  forward,
  forwardReference,
  llamaFamily,
  logits,
  referenceDecoder,
  tinyLlama,
} from "./src/model/llama.ts";
export type { ReferenceDecoder } from "./src/model/llama.ts";
export { forward as forwardModel, linearsOf, widestLinearInput } from "./src/model/model.ts";
export { optFamily, tinyOpt } from "./src/model/opt.ts";
export type { OptBlock, OptConfig, OptWeights } from "./src/model/opt.ts";
export { qwen2Family } from "./src/model/qwen2.ts";
export { DISTINCT_INPUTS, INPUT_OF, LINEAR_NAMES } from "./src/model/weights.ts";
export type {
  DistinctInput,
  LinearName,
  LlamaBlock,
  LlamaConfig,
  LlamaWeights,
} from "./src/model/weights.ts";

// I/O: formats from bytes (never paths): safetensors, half floats, llama2.c, tokenizers, Hugging Face folders
export { fromFloat32, toFloat32 } from "./src/io/dtype.ts";
export type { FloatDtype } from "./src/io/dtype.ts";
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
export { readHfModel } from "./src/io/hf_model.ts";
export { createHfWriter, hfOutputFiles, MASKS_FILE, memorySink } from "./src/io/hf_write.ts";
export type { FileSink, FolderSink, HfWriter, HfWriterOptions } from "./src/io/hf_write.ts";
export { findDuplicateKey } from "./src/io/json_duplicates.ts";
export type { DuplicateKey } from "./src/io/json_duplicates.ts";
export { LLAMA2C_MAGIC, readLlama2c, ropeTables, writeLlama2c } from "./src/io/llama2c.ts";
export type { ReadLlama2cOptions } from "./src/io/llama2c.ts";
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
export { hfTokenizer, llama2cTextTokenizer } from "./src/io/text_tokenizer.ts";
export type { TextTokenizer } from "./src/io/text_tokenizer.ts";
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

// evaluation and the whole-model pipeline: perplexity, calibration windows, block-by-block pruning, the layer report
export {
  nllStandardError,
  perplexity,
  perplexityWindows,
  tokenNll,
} from "./src/eval/perplexity.ts";
export type { PerplexityOptions, PerplexityResult } from "./src/eval/perplexity.ts";
export { runBlockWindows } from "./src/pipeline/block_run.ts";
export {
  corpusPieces,
  corpusText,
  detectCorpusFormat,
  sampleWindows,
} from "./src/pipeline/calibration.ts";
export type { CorpusFormat, WindowOptions } from "./src/pipeline/calibration.ts";
export {
  evaluateLayer,
  gramOf,
  maskAgreement,
  pairwiseAgreement,
  relativeLayerError,
  relativeLayerErrorFromGram,
} from "./src/pipeline/layer_report.ts";
export type { LayerReport } from "./src/pipeline/layer_report.ts";
export { pruneModel } from "./src/pipeline/prune_model.ts";
export type { PruneModelOptions, PruneModelResult } from "./src/pipeline/prune_model.ts";
export { checkCalibrationSize, prunableWeights, runShape } from "./src/pipeline/run_shape.ts";
export type { RunShape } from "./src/pipeline/run_shape.ts";

// workers: the pool and what runs on it (same results as one thread, bitwise)
export {
  blockForwardWindows,
  perplexityParallel,
  shareWeights,
} from "./src/parallel/forward_parallel.ts";
export type { BlockWindowsOptions, BlockWindowsRun } from "./src/parallel/forward_parallel.ts";
export {
  matmulParallel,
  matmulTransBParallel,
  MIN_PARALLEL_FLOPS,
  ROW_ALIGN,
} from "./src/parallel/matmul_parallel.ts";
export type { ParallelMatmulOptions } from "./src/parallel/matmul_parallel.ts";
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
export { pruneBlocksParallel } from "./src/parallel/prune_blocks_parallel.ts";
export { pruneModelParallel } from "./src/parallel/prune_model_parallel.ts";
export {
  buildMaskParallel,
  MIN_PARALLEL_WEIGHTS,
  pruneLayerParallel,
} from "./src/parallel/prune_parallel.ts";
export type { RowParallelOptions } from "./src/parallel/prune_parallel.ts";

// conformance: the suite other backends check themselves against
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
export { compareCase, formatCaseReport, OUTPUT_DTYPES } from "./src/conformance/compare.ts";
export type { CaseReport, Position, Tensor, TensorReport } from "./src/conformance/compare.ts";
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
