/**
 * SVG as plain text, shared by every chart the scripts draw (the complexity panels here, the
 * report page's charts, `explain`'s trace): escaping, log-axis ticks, the document wrapper; and the
 * self-contained log-log line chart of `complexity`: one or more panels side by side, each with
 * axes, tick labels (powers of two on x, 1-2-5 decades on y), one coloured line with markers per
 * series, and a legend. No dependencies, no fonts beyond the generic `sans-serif`.
 *
 * @module
 */

/** One line of a chart: a name and its `(x, y)` points (both > 0; others are skipped). */
export interface Series {
  name: string;
  points: ReadonlyArray<readonly [number, number]>;
}

/** One panel: a title, axis labels and its series. */
export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
}

const PALETTE = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#ff7f0e",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#17becf",
  "#bcbd22",
];
const PANEL_W = 560, PANEL_H = 420;
const MARGIN = { left: 70, right: 20, top: 36, bottom: 52 };

/**
 * Escapes `& < > " '` for SVG (and HTML) text and attributes.
 *
 * @param text Any text.
 * @returns The escaped text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeXml } from "./svg_chart.ts";
 * assert.equal(escapeXml(`a<b & "c" 'd'`), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;");
 * ```
 */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

/** Mantissas of base-10 ticks per decade, tried in order until at least three ticks fit. */
const DECADE_MANTISSAS = [[1], [1, 2, 5], [1, 1.5, 2, 3, 5, 7]];

/**
 * Tick values for a log axis over `[lo, hi]`. Base 2: the powers of 2 inside it. Base 10: the
 * powers of 10 if three fit, else 1-2-5 steps of each decade, else 1, 1.5, 2, 3, 5, 7; if even
 * those give fewer than three (a narrow range), about five linear 1-2-5 steps.
 *
 * @param lo Smallest value, > 0.
 * @param hi Largest value, >= lo.
 * @param base 2 or 10.
 * @returns The ticks, ascending.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { logTicks } from "./svg_chart.ts";
 * assert.deepEqual(logTicks(1000, 5000, 2), [1024, 2048, 4096]);
 * assert.deepEqual(logTicks(0.3, 3, 10), [0.5, 1, 2]);
 * assert.deepEqual(logTicks(4, 12, 10), [5, 7, 10]);
 * assert.deepEqual(logTicks(20, 24, 10), [20, 21, 22, 23, 24]);
 * ```
 */
export function logTicks(lo: number, hi: number, base: 2 | 10): number[] {
  const inside = (v: number) => v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9);
  if (base === 2) {
    const powers: number[] = [];
    for (let e = Math.ceil(Math.log2(lo) - 1e-9); 2 ** e <= hi * (1 + 1e-9); e++) {
      powers.push(roundTick(2 ** e));
    }
    return powers;
  }
  for (const mantissas of DECADE_MANTISSAS) {
    const ticks: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); 10 ** e <= hi * (1 + 1e-9); e++) {
      for (const m of mantissas) {
        if (inside(roundTick(m * 10 ** e))) ticks.push(roundTick(m * 10 ** e));
      }
    }
    if (ticks.length >= 3) return ticks;
  }
  const raw = (hi - lo) / 5, unit = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * unit).find((v) => v >= raw)!;
  const linear: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi * (1 + 1e-9); v += step) {
    linear.push(roundTick(v));
  }
  return linear;
}

/**
 * A standalone SVG document of the given size around `parts` (sans-serif, 12 px), with a white
 * background unless `background` is false.
 *
 * @param width Width in px.
 * @param height Height in px.
 * @param parts The elements, in drawing order.
 * @param options `background` (default true).
 * @returns The SVG text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { svgDocument } from "./svg_chart.ts";
 * assert.match(svgDocument(10, 20, ["<g/>"], { background: false }), /^<svg [^>]*width="10" height="20"[^>]*><g\/><\/svg>$/);
 * ```
 */
export function svgDocument(
  width: number,
  height: number,
  parts: readonly string[],
  options: { background?: boolean } = {},
): string {
  const background = options.background ?? true
    ? `<rect width="${width}" height="${height}" fill="white"/>`
    : "";
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">${background}${
    parts.join("")
  }</svg>`;
}

function roundTick(v: number): number {
  return Number(v.toPrecision(12));
}

function formatTick(v: number, base: 2 | 10): string {
  if (base === 2) return `2^${Math.round(Math.log2(v))}`;
  return v >= 1e4 || v < 1e-3 ? v.toExponential(0) : String(v);
}

/** Renders one panel as an SVG group translated to `(x0, 0)`. */
function renderPanel(panel: Panel, x0: number): string {
  const pts = panel.series.flatMap((s) => s.points.filter(([x, y]) => x > 0 && y > 0));
  if (pts.length === 0) {
    return `<g transform="translate(${x0},0)"><text x="20" y="30">${
      escapeXml(panel.title)
    }: no data</text></g>`;
  }
  const [xlo, xhi] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  const [ylo, yhi] = [
    Math.min(...pts.map((p) => p[1])) / 1.3,
    Math.max(...pts.map((p) => p[1])) * 1.3,
  ];
  const w = PANEL_W - MARGIN.left - MARGIN.right, h = PANEL_H - MARGIN.top - MARGIN.bottom;
  const lx = (v: number) => Math.log(v),
    xspan = Math.max(lx(xhi) - lx(xlo), 1e-9),
    yspan = lx(yhi) - lx(ylo);
  const px = (v: number) => MARGIN.left + ((lx(v) - lx(xlo)) / xspan) * w;
  const py = (v: number) => MARGIN.top + h - ((lx(v) - lx(ylo)) / yspan) * h;
  const out: string[] = [
    `<g transform="translate(${x0},0)" font-family="sans-serif" font-size="11">`,
  ];
  out.push(
    `<text x="${MARGIN.left + w / 2}" y="20" text-anchor="middle" font-size="14">${
      escapeXml(panel.title)
    }</text>`,
  );
  out.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${w}" height="${h}" fill="none" stroke="#333"/>`,
  );
  for (const t of logTicks(xlo, xhi, 2)) {
    const x = px(t).toFixed(1);
    out.push(`<line x1="${x}" y1="${MARGIN.top}" x2="${x}" y2="${MARGIN.top + h}" stroke="#ddd"/>`);
    out.push(
      `<text x="${x}" y="${MARGIN.top + h + 16}" text-anchor="middle">${formatTick(t, 2)}</text>`,
    );
  }
  for (const t of logTicks(ylo, yhi, 10)) {
    const y = py(t).toFixed(1);
    out.push(
      `<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + w}" y2="${y}" stroke="#ddd"/>`,
    );
    out.push(
      `<text x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${
        formatTick(t, 10)
      }</text>`,
    );
  }
  out.push(
    `<text x="${MARGIN.left + w / 2}" y="${PANEL_H - 12}" text-anchor="middle">${
      escapeXml(panel.xLabel)
    }</text>`,
  );
  out.push(
    `<text transform="translate(16,${MARGIN.top + h / 2}) rotate(-90)" text-anchor="middle">${
      escapeXml(panel.yLabel)
    }</text>`,
  );
  panel.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const sp = s.points.filter(([x, y]) => x > 0 && y > 0);
    const d = sp.map(([x, y], k) => `${k === 0 ? "M" : "L"}${px(x).toFixed(1)},${py(y).toFixed(1)}`)
      .join(" ");
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.8"/>`);
    for (const [x, y] of sp) {
      out.push(
        `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="2.5" fill="${color}"/>`,
      );
    }
    const ly = MARGIN.top + 14 + 15 * i;
    out.push(
      `<line x1="${MARGIN.left + 10}" y1="${ly}" x2="${
        MARGIN.left + 30
      }" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
    );
    out.push(
      `<text x="${MARGIN.left + 35}" y="${ly}" dominant-baseline="middle">${
        escapeXml(s.name)
      }</text>`,
    );
  });
  out.push("</g>");
  return out.join("\n");
}

/**
 * Renders panels side by side as one standalone SVG document.
 *
 * @param panels The panels, left to right, at least one.
 * @returns The SVG text (starts with `<svg`).
 * @throws {RangeError} If `panels` is empty.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { logLogSvg } from "./svg_chart.ts";
 * const svg = logLogSvg([{ title: "t", xLabel: "n", yLabel: "ms",
 *   series: [{ name: "sort", points: [[1024, 0.1], [2048, 0.22]] }] }]);
 * assert.ok(svg.startsWith("<svg") && svg.includes(">sort</text>") && svg.includes(">2^10</text>"));
 * ```
 */
export function logLogSvg(panels: readonly Panel[]): string {
  if (panels.length === 0) throw new RangeError("Cannot draw a chart with no panels");
  const width = PANEL_W * panels.length;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${PANEL_H}" viewBox="0 0 ${width} ${PANEL_H}">`,
    `<rect width="${width}" height="${PANEL_H}" fill="white"/>`,
    ...panels.map((p, i) => renderPanel(p, i * PANEL_W)),
    "</svg>",
    "",
  ].join("\n");
}
