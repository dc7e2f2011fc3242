// The bench's HTML report: one page per run, beside its JSON, with the result's charts drawn by chart.js
// (the library the graph page uses) and the same tables and verdicts as stdout. Everything here is pure
// but readChartJs, which reads the installed package.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Bars side by side under one label; `note` is a second line under the label. */
export type BarGroup = { label: string; values: (number | undefined)[]; note?: string };

export type BarPanel = {
  title: string;
  unit: string;
  scale: "linear" | "log";
  series: string[];
  groups: BarGroup[];
  target?: { value: number; label: string };
};

export type ChartInput = {
  title: string;
  subtitle: string;
  panels: BarPanel[];
  /** One line per target; pass undefined when it was not measured. */
  verdicts: { text: string; pass: boolean | undefined }[];
};

const palette = ["#228be6", "#fab005", "#40c057", "#845ef7", "#fd7e14", "#15aabf", "#e64980"];
const targetColor = "#d6336c";

export const seriesColor = (index: number): string => palette[index % palette.length] ?? "#212529";

/**
 * A chart.js configuration (plain data, no functions) drawing one panel as grouped bars: a dataset per
 * series, a category per group, missing values as null (no bar). The axis reaches the target, which
 * the page's `targetLine` plugin draws from options.plugins.targetLine.
 */
export function chartConfig(panel: BarPanel) {
  const values = panel.groups.flatMap((group) => group.values).filter((v): v is number => v !== undefined);
  const highest = Math.max(0, ...values, panel.target?.value ?? 0);
  const lowest = Math.min(...values.filter((v) => v > 0), panel.target?.value ?? Number.POSITIVE_INFINITY);
  return {
    type: "bar",
    data: {
      // A two-line category label: chart.js draws an array as one line per element.
      labels: panel.groups.map((group) =>
        group.note === undefined ? group.label : [group.label, group.note],
      ),
      datasets: panel.series.map((name, s) => ({
        label: name,
        data: panel.groups.map((group) => group.values[s] ?? null),
        backgroundColor: seriesColor(s),
      })),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      plugins: {
        title: { display: true, text: panel.title, font: { size: 16 } },
        subtitle: { display: true, text: panel.unit },
        legend: { display: panel.series.length > 1, position: "bottom" },
        targetLine: panel.target
          ? { value: panel.target.value, label: panel.target.label, color: targetColor }
          : {},
      },
      scales: {
        y:
          panel.scale === "log"
            ? {
                type: "logarithmic",
                suggestedMax: highest * 1.5,
                ...(Number.isFinite(lowest) ? { suggestedMin: lowest / 1.5 } : {}),
              }
            : { type: "linear", beginAtZero: true, suggestedMax: highest * 1.08 },
      },
    },
  };
}

const escapeHtml = (text: string) =>
  text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");

/** JSON that can sit inside a <script> element: no "<" can close it early. */
const scriptJson = (value: unknown) => JSON.stringify(value).replaceAll("<", "\\u003c");

/** Runs in the browser: draws each configuration on its canvas, with a target line and value labels. */
const pageScript = `
const report = JSON.parse(document.getElementById("report-data").textContent);
const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumSignificantDigits: 3 });
const targetLine = {
  id: "targetLine",
  afterDatasetsDraw(chart, _args, options) {
    if (typeof options.value !== "number") return;
    const { ctx, chartArea, scales } = chart;
    const y = scales.y.getPixelForValue(options.value);
    if (y < chartArea.top || y > chartArea.bottom) return;
    ctx.save();
    ctx.strokeStyle = ctx.fillStyle = options.color;
    ctx.lineWidth = 2;
    ctx.setLineDash([6, 4]);
    ctx.beginPath();
    ctx.moveTo(chartArea.left, y);
    ctx.lineTo(chartArea.right, y);
    ctx.stroke();
    ctx.font = "12px sans-serif";
    ctx.textAlign = "right";
    ctx.textBaseline = "bottom";
    // A white backing keeps the label readable where it crosses a bar.
    const width = ctx.measureText(options.label).width;
    ctx.fillStyle = "rgba(255, 255, 255, 0.85)";
    ctx.fillRect(chartArea.right - width - 7, y - 17, width + 6, 15);
    ctx.fillStyle = options.color;
    ctx.fillText(options.label, chartArea.right - 4, y - 3);
    ctx.restore();
  },
};
// Each bar's value above it, where it fits; the tables below give every figure in full.
const valueLabels = {
  id: "valueLabels",
  afterDatasetsDraw(chart) {
    const { ctx } = chart;
    ctx.save();
    ctx.font = "11px sans-serif";
    ctx.fillStyle = "#212529";
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    chart.data.datasets.forEach((dataset, index) => {
      const meta = chart.getDatasetMeta(index);
      if (meta.hidden) return;
      meta.data.forEach((bar, i) => {
        const value = dataset.data[i];
        if (typeof value !== "number") return;
        const text = compact.format(value);
        if (ctx.measureText(text).width > bar.width + 6) return;
        ctx.fillText(text, bar.x, bar.y - 2);
      });
    });
    ctx.restore();
  },
};
report.charts.forEach((config, index) => {
  config.plugins = [targetLine, valueLabels];
  new Chart(document.getElementById("chart-" + index), config);
});
`;

const style = `
body { font-family: system-ui, sans-serif; color: #212529; margin: 24px; }
h1 { margin: 0 0 4px; font-size: 22px; }
.subtitle { color: #868e96; margin: 0 0 16px; }
.charts { display: flex; flex-wrap: wrap; gap: 24px; }
.chart { position: relative; flex: 1 1 440px; height: 480px; min-width: 360px; }
.verdicts { list-style: none; padding: 0; }
.verdicts li { margin: 4px 0; }
.badge { display: inline-block; width: 3.5em; font-weight: bold; }
.pass .badge { color: #2b8a3e; } .miss .badge { color: #c92a2a; } .na .badge { color: #868e96; }
pre { font-size: 12px; background: #f8f9fa; padding: 12px; overflow-x: auto; }
`;

/**
 * The whole page: title, one canvas per panel, the verdicts, and `tables` (the stdout report) as
 * preformatted text. The data sits in a JSON script element. `chartJs` is the chart.js UMD bundle,
 * inlined rather than referenced by a relative path into node_modules: the report then opens from
 * disk, offline, after it is moved, written elsewhere with --out or read on a machine without this
 * checkout, for about 200 KB per report.
 */
export function renderHtmlReport(input: ChartInput, tables: string, chartJs: string): string {
  const verdicts = input.verdicts.map((verdict) => {
    const [kind, badge] =
      verdict.pass === undefined ? ["na", "N/A"] : verdict.pass ? ["pass", "PASS"] : ["miss", "MISS"];
    return `<li class="${kind}"><span class="badge">${badge}</span>${escapeHtml(verdict.text)}</li>`;
  });
  const canvases = input.panels.map(
    (panel, index) =>
      `<div class="chart"><canvas id="chart-${index}" role="img" aria-label="${escapeHtml(panel.title)}"></canvas></div>`,
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(input.title)}</title>
<style>${style}</style>
</head>
<body>
<h1>${escapeHtml(input.title)}</h1>
<p class="subtitle">${escapeHtml(input.subtitle)}</p>
<div class="charts">
${canvases.join("\n")}
</div>
<h2>Targets</h2>
<ul class="verdicts">
${verdicts.join("\n")}
</ul>
<h2>Tables</h2>
<pre>${escapeHtml(tables)}</pre>
<script>${chartJs.replaceAll("</script", "<\\/script")}</script>
<script type="application/json" id="report-data">${scriptJson({ charts: input.panels.map(chartConfig) })}</script>
<script>${pageScript}</script>
</body>
</html>
`;
}

/** The chart.js UMD bundle of the installed package (the file the graph page serves). Throws when missing. */
export function readChartJs(): string {
  const dir = dirname(fileURLToPath(import.meta.resolve("chart.js")));
  return readFileSync(join(dir, "chart.umd.min.js"), "utf8");
}
