/**
 * The ONNX model format: its summary from the graph, and a classifier scored by onnxruntime
 * (large tables handed to the worker pool when scoring them here would take long).
 */
import { allRows, findColumn } from '../data/table';
import { decodeOnnx, inspectOnnx, type OnnxModelInfo } from './onnx-graph';
import { onnxTreeEnsemble } from './onnx-trees';
import { onnxProbabilities, openOnnxClassifier, planInputs, SCORING_BATCH_ROWS, scoreOnnx, type InputPlan } from './onnx-scorer';
import { KERNEL_CHECK_ROWS, onnxScoringTrees, OnnxTreeScorer, sameScores } from './onnx-tree-scoring';
import { labelOutputs, probabilityOutputOf } from './onnx-outputs';
import { looksLikeOnnx } from './sniff';
import { reopenableWhen } from './tree-classifier';
import { ModelLoadError } from '../base/errors';
import type { ClassChoice } from './classes';
import { POOL_WORTH_MS, RUNNER_MIN_ROWS, type Classifier, type ModelFormat, type ModelSummary } from './classifier-types';

/** The table columns an input plan reads, in the model's order. */
function planColumns(plan: ReturnType<typeof planInputs>): string[] {
  return plan.kind === 'matrix' ? plan.features : plan.inputs.map((i) => i.column);
}

function onnxSummary(info: OnnxModelInfo, fileName: string, scoreConvention: string, declaredWidth: number | null = null): ModelSummary {
  const single = info.inputs.length === 1 ? info.inputs[0] : undefined;
  const width = single?.shape.length === 2 ? single.shape[1] : null;
  return {
    format: 'onnx',
    fileName,
    inputs: info.inputs.map((input) => ({ ...input, categories: info.inputCategories.get(input.name) ?? null })),
    outputs: info.outputs,
    classLabels: info.classLabels,
    classCount: info.classLabels?.length ?? (declaredWidth !== null && declaredWidth > 1 ? declaredWidth : null),
    needsFeatureOrder: single !== undefined && width !== 1,
    featureCount: typeof width === 'number' ? width : null,
    producer: [info.producerName, info.producerVersion].filter(Boolean).join(' '),
    operators: info.operators,
    opsets: info.opsets,
    scoreConvention,
  };
}

/** The ONNX format: recognised by its protobuf bytes, opened in onnxruntime. */
export const onnxFormat: ModelFormat = {
  id: 'onnx',
  match: looksLikeOnnx,
  inspect: (bytes, fileName) => {
    const model = decodeOnnx(bytes, fileName);
    const info = inspectOnnx(model);
    // The score output's declared width says how many classes a file that names none scores ([N, 3]: three), as opening it would.
    let width: number | null = null;
    if (!info.hasZipMap) {
      try {
        width = probabilityOutputOf(info, [], fileName, labelOutputs(model)).declaredWidth;
      } catch (error) {
        if (!(error instanceof ModelLoadError)) throw error;
      }
    }
    return onnxSummary(info, fileName, 'the class probabilities; the positive class is chosen by its label when the audit runs', width);
  },
  async open(ort, bytes, fileName, options) {
    const model = await openOnnxClassifier(ort, bytes, fileName, { positiveLabel: options.positiveLabel, classLabels: options.classLabels, userMissingValues: options.userMissingValues, sessionOptions: options.sessionOptions, deferSession: options.checkLater });
    const output = model.probabilityOutput;
    const summary = onnxSummary(model.info, fileName, output.choice?.convention ?? `${output.name}: the class is chosen by label once its width is known`, output.declaredWidth);
    // Trees fed directly by the single [N, F] input can be explained exactly from the file
    // (for the positive class's column; null for a model of more than two classes). A tree
    // shape the explainer does not read (a binary SOFTMAX, BRANCH_EQ) is scored by onnxruntime
    // all the same: it only has no exact TreeSHAP (the explainer says so, or uses KernelSHAP).
    const treesFor = (choice: ClassChoice) => {
      // The explainer walks the trees in float32, as onnxruntime compares a float input; a double input it compares as doubles.
      if (!(summary.needsFeatureOrder && summary.featureCount && !choice.oneVsRest) || summary.inputs[0]?.elementType !== 'float32') return null;
      try {
        return onnxTreeEnsemble(decodeOnnx(bytes, fileName), fileName, summary.featureCount, false, choice.complement ? 0 : choice.column);
      } catch (error) {
        if (error instanceof ModelLoadError) return null;
        throw error;
      }
    };
    let ensemble = output.choice ? treesFor(output.choice) : null;
    // The kernel scorer of the positive column, made on first use (undefined: not yet; null: none applies).
    let kernelScorer: OnnxTreeScorer | null | undefined;
    // The table columns the kernel last read, in the model's order (what a pool's thread names the trees' features by).
    let kernelColumns: string[] | undefined;
    const kernelFor = (plan: InputPlan): OnnxTreeScorer | null => {
      const choice = output.choice;
      if (!choice || choice.complement || choice.oneVsRest || plan.kind !== 'matrix' || plan.input.elementType !== 'float32') return null;
      if (kernelScorer === undefined) {
        const trees = onnxScoringTrees(decodeOnnx(bytes, fileName), fileName, plan.features.length, choice.column);
        kernelScorer = trees ? new OnnxTreeScorer(trees) : null;
      }
      kernelColumns = plan.features;
      return kernelScorer;
    };
    const classifier: Classifier = {
      summary,
      get ensemble() {
        return ensemble;
      },
      async classChoice(table, features) {
        if (!output.choice) {
          // The output's width is left open by the file: one row scored shows it.
          await scoreOnnx(ort, model, table, planInputs(model, table, features), { rows: allRows(Math.min(1, table.rowCount)) });
          ensemble = treesFor(output.choice!);
        }
        summary.scoreConvention = output.choice!.convention;
        return output.choice!;
      },
      features: (table, requested) => {
        return planColumns(planInputs(model, table, requested));
      },
      score: async (table, { features, ...rest } = {}) => {
        const plan = planInputs(model, table, features);
        const rows = rest.rows ?? allRows(table.rowCount);
        // Tree ensembles: the project's kernel with onnxruntime's arithmetic, once it has
        // given onnxruntime's scores to the bit on the first batch of a call — or, opened with
        // checkLater, once that check is under way (the caller awaits `settled`).
        const kernel = rows.length >= KERNEL_CHECK_ROWS || kernelScorer?.checked || kernelScorer?.checking ? kernelFor(plan) : null;
        if (kernel && kernel.checked !== false) {
          const columns = plan.kind === 'matrix' ? plan.features.map((name) => (findColumn(table, name) as { values: Float64Array }).values) : [];
          const kernelOptions = { ...rest, runner: options?.treeMargins };
          if (kernel.checked || kernel.checking) return kernel.score(columns, rows, kernelOptions);
          const head = rows.subarray(0, Math.min(rows.length, SCORING_BATCH_ROWS));
          if (options.checkLater) {
            // The check is set before anything is awaited: a call meanwhile uses the kernel under
            // this one check. The head's kernel scores are copied as they come, before the
            // caller may change its array (scores are clipped to [0, 1] in place).
            const scoring = kernel.score(columns, rows, kernelOptions);
            const given = scoring.then((scores) => scores.slice(0, head.length));
            kernel.checking = Promise.all([scoreOnnx(ort, model, table, plan, { rows: head, signal: rest.signal }), given]).then(([onnx, kernelHead]) => sameScores(onnx, kernelHead));
            kernel.checking.catch(() => undefined); // reported by settled()
            return scoring;
          }
          const scores = new Float64Array(rows.length);
          scores.set(await scoreOnnx(ort, model, table, plan, { ...rest, rows: head, onProgress: (done) => rest.onProgress?.(done, rows.length) }));
          kernel.checked = sameScores(scores.subarray(0, head.length), await kernel.score(columns, head, {}));
          if (kernel.checked) {
            const tail = rows.subarray(head.length);
            scores.set(await kernel.score(columns, tail, { ...kernelOptions, onProgress: (done) => rest.onProgress?.(head.length + done, rows.length) }), head.length);
            return scores;
          }
        }
        const runner = options?.onnxScores;
        if (!runner || rows.length < RUNNER_MIN_ROWS) return scoreOnnx(ort, model, table, plan, rest);
        // The first batch is scored here and timed: a light model (an MLP scores 1M rows/s)
        // finishes here sooner than the copies to the pool take; a heavy one (hundreds of
        // trees) goes to the pool. Where a batch runs never changes its scores.
        const head = rows.subarray(0, SCORING_BATCH_ROWS);
        const started = Date.now();
        const scores = new Float64Array(rows.length);
        // Progress counts the whole table, the first batch included.
        scores.set(await scoreOnnx(ort, model, table, plan, { ...rest, rows: head, onProgress: (done) => rest.onProgress?.(done, rows.length) }));
        const tail = rows.subarray(head.length);
        const projectedMs = ((Date.now() - started) * tail.length) / head.length;
        const progress = (done: number) => rest.onProgress?.(head.length + done, rows.length);
        const others =
          projectedMs < (options?.onnxPoolWorthMs ?? POOL_WORTH_MS)
            ? await scoreOnnx(ort, model, table, plan, { ...rest, rows: tail, onProgress: progress })
            : await runner({ modelBytes: bytes, fileName, open: { positiveLabel: options.positiveLabel, classLabels: options.classLabels, userMissingValues: options.userMissingValues }, table, columns: planColumns(plan), rows: tail, features }, { signal: rest.signal, onProgress: progress });
        scores.set(others, head.length);
        return scores;
      },
      probabilities: (table, { features, ...rest } = {}) => onnxProbabilities(ort, model, table, planInputs(model, table, features), rest),
      release: () => model.session.release(),
      async settled() {
        const kernel = kernelScorer;
        const checking = kernel?.checking;
        if (!kernel || !checking) return true;
        let same = false;
        try {
          same = await checking;
        } finally {
          // A check that failed to run leaves the kernel unconfirmed: onnxruntime scores from then on.
          kernel.checking = undefined;
          kernel.checked = same;
        }
        return same;
      },
    };
    // Once the kernel scores this model (checked against onnxruntime, or under the check the
    // audit waits for), a pool's thread may open its trees again (the recourse search).
    reopenableWhen(classifier, () => (kernelScorer && (kernelScorer.checked || kernelScorer.checking) && kernelColumns ? kernelScorer.reopenable(kernelColumns, fileName) : null));
    return classifier;
  },
};
