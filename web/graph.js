// The risk graph page: follows the server's event stream and draws the sliding window with Chart.js.
// Every value from Kafka reaches the DOM through textContent and the chart as canvas text, never as HTML.

import { GraphWindow } from "/graph-window.js";

const { Chart } = globalThis;

const series = [
  { key: "up", label: "Improvement (> 0)", rgb: "22, 163, 74" },
  { key: "flat", label: "No change (0)", rgb: "100, 116, 139" },
  { key: "down", label: "Deterioration (< 0)", rgb: "220, 38, 38" },
];
const latestShown = 20;

const element = (id) => {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found;
};
const statusEl = element("status");
const counterEl = element("counter");
const chartEl = element("chart");
const waitingEl = element("waiting");
const latestEl = element("latest");
const emptyListEl = element("empty-list");
const footerEl = element("footer");

let graph = new GraphWindow(1);
let topic = "";
/** "connecting" before the first answer, then "open" or "retrying". */
let connection = "connecting";
let renderQueued = false;

const seriesOf = (point) => (point.y > 0 ? "up" : point.y < 0 ? "down" : "flat");
// Whole numbers keep one decimal, as the topic writes them (Java's "-3.0"), so the list lines up.
const decimal = (score) => (Number.isInteger(score) ? score.toFixed(1) : String(score));
const signed = (score) => (score > 0 ? `+${decimal(score)}` : decimal(score));
const plural = (count, one, many) => `${count} ${count === 1 ? one : many}`;

// Tooltip text is drawn on the canvas: these return plain strings, which Chart.js never parses.
const tooltipTitle = (point) => `Born ${point.x}`;
const tooltipLabel = (point) =>
  point.email && point.email !== point.customer
    ? [`${point.customer} (${point.email})`, `score ${signed(point.y)}`]
    : `${point.customer}: ${signed(point.y)}`;

/** Draws the zero line over the grid and under the points: the line between better and worse. */
const zeroLine = {
  id: "zeroLine",
  beforeDatasetsDraw(chart) {
    const { ctx, chartArea, scales } = chart;
    const y = scales.y.getPixelForValue(0);
    if (y < chartArea.top || y > chartArea.bottom) return;
    ctx.save();
    ctx.strokeStyle = "#1f2933";
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(chartArea.left, y);
    ctx.lineTo(chartArea.right, y);
    ctx.stroke();
    ctx.restore();
  },
};

const chart = new Chart(element("canvas"), {
  type: "scatter",
  data: {
    datasets: series.map((entry) => ({
      label: entry.label,
      data: [],
      backgroundColor: `rgba(${entry.rgb}, 0.85)`,
      borderColor: `rgb(${entry.rgb})`,
      pointRadius: 5,
      pointHoverRadius: 8,
    })),
  },
  plugins: [zeroLine],
  options: {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    interaction: { mode: "nearest", intersect: true },
    scales: {
      x: {
        type: "linear",
        title: { display: true, text: "Birth year", font: { size: 14, weight: "600" } },
        // Years, not quantities: no thousands separator, no fractions.
        ticks: { precision: 0, callback: (value) => (Number.isInteger(value) ? String(value) : "") },
        grid: { color: "#eef0f3" },
      },
      y: {
        title: { display: true, text: "Risk score change", font: { size: 14, weight: "600" } },
        grid: { color: "#eef0f3" },
      },
    },
    plugins: {
      legend: {
        position: "bottom",
        labels: {
          usePointStyle: true,
          // Fixed swatches: the datasets' own colours are per point (faded) and empty at first.
          generateLabels: (chart) =>
            series.map((entry, index) => ({
              text: entry.label,
              fillStyle: `rgba(${entry.rgb}, 0.85)`,
              strokeStyle: `rgb(${entry.rgb})`,
              lineWidth: 1,
              pointStyle: "circle",
              hidden: !chart.isDatasetVisible(index),
              datasetIndex: index,
            })),
        },
      },
      tooltip: {
        displayColors: false,
        callbacks: {
          title: (items) => (items[0] ? tooltipTitle(items[0].raw) : ""),
          label: (item) => tooltipLabel(item.raw),
        },
      },
    },
  },
});

/** Symmetric around zero so improvement and deterioration read at the same scale. */
function yLimit(points) {
  const largest = points.reduce((most, point) => Math.max(most, Math.abs(point.y)), 0);
  const padded = largest * 1.1;
  if (padded <= 5) return 5;
  return padded <= 10 ? 10 : Math.ceil(padded / 10) * 10;
}

function renderChart() {
  const buckets = { up: [], flat: [], down: [] };
  for (const point of graph.points) buckets[seriesOf(point)].push(point);
  series.forEach((entry, index) => {
    const dataset = chart.data.datasets[index];
    const points = buckets[entry.key];
    dataset.data = points;
    // Per-point colours carry the fade: the newest point is solid, the oldest a trace.
    dataset.backgroundColor = points.map((point) => `rgba(${entry.rgb}, ${0.85 * graph.opacityOf(point)})`);
    dataset.borderColor = points.map((point) => `rgba(${entry.rgb}, ${graph.opacityOf(point)})`);
  });
  const years = graph.points.map((point) => point.x);
  const { x, y } = chart.options.scales;
  // Padded by a year and rounded out to multiples of 5, so the edges fall on round years.
  x.min = years.length > 0 ? Math.floor((Math.min(...years) - 1) / 5) * 5 : 1930;
  x.max = years.length > 0 ? Math.ceil((Math.max(...years) + 1) / 5) * 5 : 2010;
  const limit = yLimit(graph.points);
  y.min = -limit;
  y.max = limit;
  chart.update("none");
}

function renderLatest() {
  const items = graph.points
    .slice(-latestShown)
    .reverse()
    .map((point) => {
      const item = document.createElement("li");
      item.dataset.seq = String(point.seq);
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = point.customer;
      who.title = point.email === point.customer ? point.customer : `${point.customer} (${point.email})`;
      const year = document.createElement("span");
      year.className = "year";
      year.textContent = String(point.x);
      const score = document.createElement("span");
      score.className = `score ${seriesOf(point)}`;
      score.textContent = signed(point.y);
      item.append(who, year, score);
      return item;
    });
  latestEl.replaceChildren(...items);
  emptyListEl.hidden = items.length > 0;
}

function renderStatus() {
  const state =
    connection === "open"
      ? graph.received > 0
        ? "live"
        : "waiting"
      : connection === "retrying"
        ? "disconnected"
        : "connecting";
  const text = {
    connecting: "connecting…",
    waiting: "waiting for data…",
    live: "live",
    disconnected: "disconnected — retrying",
  }[state];
  statusEl.dataset.state = state;
  statusEl.textContent = text;
  counterEl.dataset.received = String(graph.received);
  counterEl.textContent = `${plural(graph.received, "point", "points")} received`;
  waitingEl.hidden = graph.received > 0;
  chartEl.dataset.points = String(graph.points.length);
  footerEl.textContent = `Showing the latest ${plural(graph.points.length, "point", "points")} of at most ${graph.capacity}${
    topic ? ` from topic ${topic}` : ""
  }; older points fade as new ones arrive. Hover a point for its customer and score.`;
}

function render() {
  renderQueued = false;
  renderChart();
  renderLatest();
  renderStatus();
}

/** One redraw per frame however many events arrive in between. */
function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(render);
}

function parse(event) {
  try {
    return JSON.parse(event.data);
  } catch {
    return undefined;
  }
}

function connect() {
  const source = new EventSource("/events");
  source.addEventListener("source", (event) => {
    const data = parse(event);
    if (data && typeof data.topic === "string") topic = data.topic;
  });
  // Every connection starts with the whole window, so a reconnect never leaves gaps or duplicates.
  source.addEventListener("snapshot", (event) => {
    const snapshot = parse(event);
    if (!snapshot) return;
    graph = GraphWindow.fromSnapshot(snapshot);
    connection = "open";
    scheduleRender();
  });
  source.addEventListener("points", (event) => {
    const points = parse(event);
    if (!Array.isArray(points)) return;
    for (const point of points) graph.accept(point);
    scheduleRender();
  });
  source.addEventListener("error", () => {
    connection = "retrying";
    scheduleRender();
    // EventSource retries by itself unless the server refused; then retry by hand.
    if (source.readyState === EventSource.CLOSED) {
      source.close();
      setTimeout(connect, 2000);
    }
  });
}

// Read-only views for tests and the curious, from the browser console.
globalThis.__stediGraph = Object.freeze({
  pointCount: () => graph.points.length,
  received: () => graph.received,
  status: () => statusEl.dataset.state,
  customers: () => graph.points.map((point) => point.customer),
  /** Where the point numbered `seq` is drawn, in CSS pixels from the canvas's top left. */
  pixelOf(seq) {
    for (let index = 0; index < series.length; index += 1) {
      const at = chart.data.datasets[index].data.findIndex((point) => point.seq === seq);
      if (at >= 0) {
        const drawn = chart.getDatasetMeta(index).data[at];
        return { x: drawn.x, y: drawn.y };
      }
    }
    return undefined;
  },
  /** The tooltip Chart.js drew last, as its text lines. */
  tooltip: () => {
    const { tooltip } = chart;
    if (!tooltip || tooltip.opacity === 0) return undefined;
    return { title: [...tooltip.title], body: tooltip.body.flatMap((part) => part.lines) };
  },
});

renderStatus();
connect();
