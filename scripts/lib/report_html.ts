/**
 * `prune --compare --html FILE`: the report JSON of `scripts/prune.ts` rendered as one
 * self-contained HTML page (inline CSS and inline SVG; no script, font or stylesheet is fetched, so
 * it opens offline and renders the same in headless Chromium). Charts are plain SVG built here:
 * charting libraries such as Vega-Lite render SVG through a DOM or a canvas, which Deno does not
 * provide without extra native dependencies, and a page that loads a library at view time would not
 * open offline.
 *
 * Sections: the method table, perplexity against sparsity per method (from `sweep`, else one point
 * per method), time per method, per-layer heatmaps of sparsity and error, and mask agreement
 * (pairwise between methods when `agreement` is present, and every method against the magnitude
 * and Wanda masks per layer).
 *
 * @module
 */
import { escapeXml, logTicks, svgDocument } from "./svg_chart.ts";

/** One layer of a method's run (`layers` of the report JSON). */
export interface ReportLayer {
  name: string;
  rows: number;
  cols: number;
  sparsity: number;
  error: number;
  agree_magnitude: number;
  agree_wanda: number;
}

/** One method's entry (the top level of a single-method report, or an item of `methods`). */
export interface ReportMethod {
  method: string;
  pruned: { ppl: number; sparsity: number };
  layers: ReportLayer[];
  times_ms: { calibration: number; pruning: number; eval: number; [part: string]: unknown };
}

/** One sparsity of a `--sweep`: every method's perplexity and pruning time there. */
export interface SweepPoint {
  sparsity: number;
  methods: { method: string; ppl: number; sparsity: number; pruning_ms: number }[];
}

/** The report JSON of `scripts/prune.ts` (the fields the page uses). */
export interface PruneReport extends Partial<ReportMethod> {
  model: string;
  method: string;
  calibration: { file: string; nsamples: number; seqlen: number; seed: number };
  eval: { file: string; seqlen: number; tokens: number };
  dense: { ppl: number };
  methods?: ReportMethod[];
  sweep?: SweepPoint[];
  /** Pairwise mask agreement: fraction of weights with the same keep/prune decision. */
  agreement?: { methods: string[]; matrix: number[][] };
}

/** Okabe-Ito colours, one per method in order of appearance. */
const PALETTE = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000"];
const fmt = (
  v: number,
  digits = 4,
) => (Number.isFinite(v) ? Number(v.toPrecision(digits)).toString() : String(v));
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
/** Agreement: 4 decimals, so that 0.9998 is not shown as 1. */
const agreeText = (v: number) => (v === 1 ? "1" : v.toFixed(4));
const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const basename = (path: string) => path.split(/[\\/]/).pop() ?? path;

/**
 * The method entries of a report: `methods` of a `--compare` report, or the report itself.
 *
 * @param report The parsed report JSON.
 * @returns The entries, in the report's order.
 * @throws {TypeError} If the report has neither `methods` nor a single method's fields.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { methodsOf } from "./report_html.ts";
 * const entry = { method: "wanda", pruned: { ppl: 30, sparsity: 0.5 }, layers: [], times_ms: { calibration: 1, pruning: 2, eval: 3 } };
 * assert.equal(methodsOf({ methods: [entry] } as never)[0].method, "wanda");
 * assert.throws(() => methodsOf({} as never), TypeError);
 * ```
 */
export function methodsOf(report: PruneReport): ReportMethod[] {
  if (Array.isArray(report.methods)) return report.methods;
  if (report.pruned && report.layers && report.times_ms) return [report as ReportMethod];
  throw new TypeError(
    "Cannot render the report: it has neither methods nor pruned/layers/times_ms",
  );
}

/**
 * Parses `--sweep`: comma-separated sparsities in [0, 1), returned sorted without repeats.
 *
 * @param text E.g. `"0.1,0.3,0.5,0.7"`.
 * @returns The sparsities, ascending.
 * @throws {RangeError} If an entry is not a number in [0, 1) or the list is empty.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSweep } from "./report_html.ts";
 * assert.deepEqual(parseSweep("0.5, 0.1,0.5"), [0.1, 0.5]);
 * assert.throws(() => parseSweep("0.1,1"), /--sweep: 1 is not a sparsity in \[0, 1\)/);
 * ```
 */
export function parseSweep(text: string): number[] {
  const values = text.split(",").map((part) => {
    const v = Number(part);
    if (part.trim() === "" || !(v >= 0 && v < 1)) {
      throw new RangeError(
        `--sweep: ${part.trim() || "an empty entry"} is not a sparsity in [0, 1)`,
      );
    }
    return v;
  });
  return [...new Set(values)].sort((a, b) => a - b);
}

/**
 * A colour between white and `#08306b` (dark blue) for `t` in [0, 1] (clamped).
 *
 * @param t The position on the scale.
 * @returns An `rgb(...)` colour.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { heatColor } from "./report_html.ts";
 * assert.equal(heatColor(0), "rgb(247,251,255)");
 * assert.equal(heatColor(2), heatColor(1));
 * ```
 */
export function heatColor(t: number): string {
  const u = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  const lo = [247, 251, 255], hi = [8, 48, 107];
  return `rgb(${lo.map((c, i) => Math.round(c + (hi[i] - c) * u)).join(",")})`;
}

function methodTable(report: PruneReport, methods: ReportMethod[]): string {
  const mean = (m: ReportMethod, key: "error" | "agree_magnitude" | "agree_wanda") =>
    m.layers.reduce((s, l) => s + l[key], 0) / (m.layers.length || 1);
  const rows = methods.map((m, i) =>
    `<tr><td><span class="dot" style="background:${PALETTE[i % PALETTE.length]}"></span>${
      escapeXml(m.method)
    }</td>` +
    `<td>${fmt(m.pruned.ppl)}</td><td>${fmt(m.pruned.ppl / report.dense.ppl, 3)}x</td><td>${
      pct(m.pruned.sparsity)
    }</td>` +
    `<td>${fmt(mean(m, "error"), 3)}</td><td>${agreeText(mean(m, "agree_magnitude"))}</td><td>${
      agreeText(mean(m, "agree_wanda"))
    }</td>` +
    `<td>${sec(m.times_ms.calibration)}</td><td>${sec(m.times_ms.pruning)}</td><td>${
      sec(m.times_ms.eval)
    }</td></tr>`
  );
  return `<table><thead><tr><th>method</th><th>perplexity</th><th>vs dense</th><th>sparsity</th>` +
    `<th>mean layer error</th><th>agree magnitude</th><th>agree Wanda</th><th>calibration</th><th>pruning</th><th>eval</th></tr></thead>` +
    `<tbody><tr><td>dense</td><td>${
      fmt(report.dense.ppl)
    }</td><td>1x</td><td>0%</td><td>-</td><td>-</td><td>-</td><td>-</td><td>-</td><td>-</td></tr>` +
    `${rows.join("")}</tbody></table>`;
}

/** Perplexity (log scale) against sparsity, one line per method, dense as a dashed line. */
function pplChart(report: PruneReport, methods: ReportMethod[]): string {
  const sweep: SweepPoint[] = report.sweep?.length ? report.sweep : [{
    sparsity: methods[0]?.pruned.sparsity ?? 0,
    methods: methods.map((m) => ({
      method: m.method,
      ppl: m.pruned.ppl,
      sparsity: m.pruned.sparsity,
      pruning_ms: m.times_ms.pruning,
    })),
  }];
  const names = methods.map((m) => m.method);
  const points = names.map((name) =>
    sweep.flatMap((p) =>
      p.methods.filter((m) => m.method === name).map((m) => ({ x: m.sparsity, y: m.ppl }))
    )
      .sort((a, b) => a.x - b.x)
  );
  const ys = [report.dense.ppl, ...points.flat().map((p) => p.y)].filter((y) =>
    y > 0 && Number.isFinite(y)
  );
  const lo = Math.log10(Math.min(...ys)) - 0.05, hi = Math.log10(Math.max(...ys)) + 0.05;
  const W = 640, H = 340, L = 60, R = 150, T = 20, B = 40;
  const xMax = Math.min(
    1,
    Math.ceil(Math.max(0.5, ...points.flat().map((p) => p.x)) * 10 + 0.5) / 10,
  );
  const px = (x: number) => L + (x / xMax) * (W - L - R),
    py = (y: number) => T + ((hi - Math.log10(y)) / (hi - lo)) * (H - T - B);
  const parts: string[] = [];
  for (let s = 0; s <= Math.round(xMax * 10); s += 1) {
    const x = px(s / 10).toFixed(1);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${T}" y2="${H - B}" class="grid"/><text x="${x}" y="${
        H - B + 16
      }" text-anchor="middle">${s * 10}%</text>`,
    );
  }
  const ticks = logTicks(10 ** lo, 10 ** hi, 10);
  for (const y of ticks) {
    parts.push(
      `<line x1="${L}" x2="${W - R}" y1="${py(y).toFixed(1)}" y2="${
        py(y).toFixed(1)
      }" class="grid"/><text x="${L - 6}" y="${
        py(y).toFixed(1)
      }" text-anchor="end" dominant-baseline="middle">${fmt(y, 3)}</text>`,
    );
  }
  const dy = py(report.dense.ppl).toFixed(1);
  parts.push(
    `<line x1="${L}" x2="${
      W - R
    }" y1="${dy}" y2="${dy}" stroke="#444" stroke-dasharray="6 4"/><text x="${
      W - R + 6
    }" y="${dy}" dominant-baseline="middle">dense ${fmt(report.dense.ppl)}</text>`,
  );
  points.forEach((pts, i) => {
    const c = PALETTE[i % PALETTE.length];
    if (pts.length > 1) {
      parts.push(
        `<polyline fill="none" stroke="${c}" stroke-width="2" points="${
          pts.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(" ")
        }"/>`,
      );
    }
    for (const p of pts) {
      parts.push(
        `<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="4" fill="${c}"><title>${
          escapeXml(names[i])
        }: ppl ${fmt(p.y)} at ${pct(p.x)}</title></circle>`,
      );
    }
    parts.push(
      `<rect x="${W - R + 6}" y="${T + 18 * i}" width="12" height="12" fill="${c}"/><text x="${
        W - R + 24
      }" y="${T + 18 * i + 10}">${escapeXml(names[i])}</text>`,
    );
  });
  parts.push(
    `<text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle">achieved sparsity</text>`,
  );
  parts.push(
    `<text x="14" y="${(T + H - B) / 2}" transform="rotate(-90 14 ${
      (T + H - B) / 2
    })" text-anchor="middle">perplexity (log)</text>`,
  );
  return svg(W, H, parts);
}

/** Horizontal stacked bars: calibration forward, pruning, evaluation, per method. */
function timeChart(methods: ReportMethod[]): string {
  const parts: string[] = [], W = 640, L = 110, R = 130, rowH = 26;
  const H = 40 + rowH * methods.length + 30;
  const keys = [["calibration", "#bbbbbb"], ["pruning", "#0072b2"], ["eval", "#e69f00"]] as const;
  const total = (m: ReportMethod) => keys.reduce((s, [k]) => s + m.times_ms[k], 0);
  const max = Math.max(1, ...methods.map(total)), px = (ms: number) => (ms / max) * (W - L - R);
  methods.forEach((m, i) => {
    const y = 20 + rowH * i;
    let x = L;
    parts.push(
      `<text x="${L - 8}" y="${y + 10}" text-anchor="end" dominant-baseline="middle">${
        escapeXml(m.method)
      }</text>`,
    );
    for (const [k, c] of keys) {
      const w = px(m.times_ms[k]);
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y}" width="${
          w.toFixed(1)
        }" height="20" fill="${c}"><title>${k} ${sec(m.times_ms[k])}</title></rect>`,
      );
      x += w;
    }
    parts.push(
      `<text x="${(x + 4).toFixed(1)}" y="${y + 10}" dominant-baseline="middle">${
        sec(m.times_ms.pruning)
      } pruning</text>`,
    );
  });
  keys.forEach(([k, c], i) =>
    parts.push(
      `<rect x="${L + 150 * i}" y="${H - 22}" width="12" height="12" fill="${c}"/><text x="${
        L + 150 * i + 18
      }" y="${H - 12}">${k}</text>`,
    )
  );
  return svg(W, H, parts);
}

/** A heatmap: one row per layer, one column per method; the value printed in each cell. */
function heatmap(
  methods: ReportMethod[],
  value: (l: ReportLayer) => number,
  scale: (v: number) => number,
  label: (v: number) => string,
): string {
  const layers = methods[0]?.layers.map((l) => l.name) ?? [];
  const cellW = 78, cellH = 16, L = 110, T = 34;
  const W = L + cellW * methods.length + 10, H = T + cellH * layers.length + 10;
  const parts: string[] = [];
  methods.forEach((m, c) =>
    parts.push(
      `<text x="${L + cellW * c + cellW / 2}" y="${T - 10}" text-anchor="middle">${
        escapeXml(m.method)
      }</text>`,
    )
  );
  layers.forEach((name, r) => {
    parts.push(
      `<text x="${L - 6}" y="${
        T + cellH * r + cellH / 2
      }" text-anchor="end" dominant-baseline="middle" class="small">${escapeXml(name)}</text>`,
    );
    methods.forEach((m, c) => {
      const layer = m.layers.find((l) => l.name === name);
      if (!layer) return;
      const v = value(layer), t = scale(v), x = L + cellW * c, y = T + cellH * r;
      parts.push(
        `<rect x="${x}" y="${y}" width="${cellW - 2}" height="${cellH - 2}" fill="${
          heatColor(t)
        }"><title>${escapeXml(`${m.method} ${name}: ${label(v)}`)}</title></rect>`,
      );
      parts.push(
        `<text x="${x + cellW / 2 - 1}" y="${
          y + cellH / 2
        }" text-anchor="middle" dominant-baseline="middle" class="small" fill="${
          t > 0.55 ? "white" : "#222"
        }">${label(v)}</text>`,
      );
    });
  });
  return svg(W, H, parts);
}

/** The pairwise agreement matrix as a heatmap (method x method). */
function agreementMatrix(agreement: NonNullable<PruneReport["agreement"]>): string {
  const n = agreement.methods.length, cell = 70, L = 110, T = 30;
  const parts: string[] = [];
  const values = agreement.matrix.flatMap((r, i) => r.filter((_, j) => j !== i));
  const lo = Math.min(...values, 1);
  agreement.methods.forEach((m, i) => {
    parts.push(
      `<text x="${L - 6}" y="${
        T + cell * i + cell / 2
      }" text-anchor="end" dominant-baseline="middle">${escapeXml(m)}</text>`,
    );
    parts.push(
      `<text x="${L + cell * i + cell / 2}" y="${T - 10}" text-anchor="middle">${
        escapeXml(m)
      }</text>`,
    );
    agreement.matrix[i].forEach((v, j) => {
      const t = lo < 1 ? (v - lo) / (1 - lo) : 1;
      parts.push(
        `<rect x="${L + cell * j}" y="${T + cell * i}" width="${cell - 2}" height="${
          cell - 2
        }" fill="${heatColor(t)}"/>`,
      );
      parts.push(
        `<text x="${L + cell * j + cell / 2 - 1}" y="${
          T + cell * i + cell / 2
        }" text-anchor="middle" dominant-baseline="middle" fill="${t > 0.55 ? "white" : "#222"}">${
          agreeText(v)
        }</text>`,
      );
    });
  });
  return svg(L + cell * n + 10, T + cell * n + 10, parts);
}

/** A chart of the page: an SVG document on the page's (transparent) background. */
const svg = (width: number, height: number, parts: string[]) =>
  svgDocument(width, height, parts, { background: false });

const CSS =
  `body{font-family:sans-serif;margin:24px;max-width:1200px;color:#222}h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
.dot{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:6px}.note{color:#555;font-size:13px}
.grid{stroke:#e4e4e4}.small{font-size:10px}.row{display:flex;gap:24px;flex-wrap:wrap}`;

/**
 * Renders a report as a self-contained HTML page.
 *
 * @param report The report JSON of `prune --report` (a `--compare` report shows every method).
 * @returns The HTML document.
 * @throws {TypeError} If the report has no method entries.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderReportHtml } from "./report_html.ts";
 * const layer = { name: "layers.0.wq", rows: 4, cols: 4, sparsity: 0.5, error: 0.1, agree_magnitude: 0.9, agree_wanda: 1 };
 * const html = renderReportHtml({
 *   model: "m.bin", method: "wanda", calibration: { file: "c.txt", nsamples: 8, seqlen: 256, seed: 0 },
 *   eval: { file: "e.txt", seqlen: 256, tokens: 2048 }, dense: { ppl: 20 },
 *   pruned: { ppl: 30, sparsity: 0.5 }, layers: [layer], times_ms: { calibration: 1, pruning: 2, eval: 3 },
 * });
 * assert.ok(html.startsWith("<!DOCTYPE html>") && !/(src|href)="http/.test(html));
 * assert.match(html, /<td>30<\/td><td>1\.5x<\/td>/);
 * ```
 */
export function renderReportHtml(report: PruneReport): string {
  const methods = methodsOf(report);
  const errors = methods.flatMap((m) => m.layers.map((l) => l.error)).filter((e) => e > 0);
  const eLo = Math.log10(Math.min(...errors, 1)), eHi = Math.log10(Math.max(...errors, 1e-12));
  const errorScale = (e: number) => (e > 0 && eHi > eLo ? (Math.log10(e) - eLo) / (eHi - eLo) : 0);
  const c = report.calibration, e = report.eval;
  const sweepNote = report.sweep?.length
    ? `Each point is a full run of every method at that sparsity (${
      report.sweep.map((p) => pct(p.sparsity)).join(", ")
    }), same calibration windows.`
    : "One point per method (run with <code>--sweep</code> for a curve).";
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>secateur report: ${
    escapeXml(basename(report.model))
  }</title><style>${CSS}</style></head>
<body>
<h1>secateur: ${escapeXml(basename(report.model))}, ${
    escapeXml(methods.map((m) => m.method).join(", "))
  }</h1>
<p class="note">Calibration: ${c.nsamples} windows x ${c.seqlen} tokens of ${
    escapeXml(basename(c.file))
  } (seed ${c.seed}).
Evaluation: ${e.tokens.toLocaleString("en")} tokens of ${
    escapeXml(basename(e.file))
  }, seqlen ${e.seqlen}. Dense perplexity ${fmt(report.dense.ppl)}.
Layer error is <code>||W X - W' X||^2 / ||W X||^2</code> on the calibration inputs; agreement is the fraction of weights whose keep/prune decision matches (per layer: against the magnitude and Wanda masks of the same weights, Wanda scored on the inputs that method saw).</p>
<h2>Methods</h2>
${methodTable(report, methods)}
<h2>Perplexity against sparsity</h2>
<p class="note">${sweepNote}</p>
${pplChart(report, methods)}
<h2>Time per method</h2>
<p class="note">Wall-clock time of the calibration forward passes, the pruning itself, and the perplexity evaluation.</p>
${timeChart(methods)}
<h2>Per layer: sparsity and error</h2>
<div class="row"><div><p class="note">Achieved sparsity</p>${
    heatmap(methods, (l) => l.sparsity, (v) => v, pct)
  }</div>
<div><p class="note">Relative layer error (colour: log scale)</p>${
    heatmap(methods, (l) => l.error, errorScale, (v) => fmt(v, 2))
  }</div></div>
<h2>Mask agreement</h2>
${
    report.agreement
      ? `<p class="note">Between methods (all layers): fraction of weights with the same decision.</p>${
        agreementMatrix(report.agreement)
      }`
      : ""
  }
<div class="row"><div><p class="note">With the magnitude mask, per layer</p>${
    heatmap(methods, (l) => l.agree_magnitude, (v) => v, agreeText)
  }</div>
<div><p class="note">With the Wanda mask, per layer</p>${
    heatmap(methods, (l) => l.agree_wanda, (v) => v, agreeText)
  }</div></div>
<p class="note">Charts are inline SVG drawn by <code>scripts/lib/report_html.ts</code>; the page loads nothing and runs no script.</p>
</body></html>
`;
}
