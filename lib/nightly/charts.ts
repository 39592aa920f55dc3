/**
 * Inline SVG for the history page: a step's duration per run over its median band, and a
 * sparkline. Each chart is an image with a title and a description that say in words what it
 * shows; failures are marked with a ✗ glyph, not only a colour. Colours live in the page's CSS.
 */
import { formatDuration } from '../core/steps.ts';
import type { HistoryEntry } from './history.ts';
import { escapeHtml } from './html.ts';
import { runDay, runTime } from './labels.ts';
import type { StepTrend } from './trends.ts';

/** Above this many runs, points get no marker of their own: the line alone keeps the page light. */
const MARKED_RUNS = 60;
const NICE_SECONDS = [
  1, 2, 5, 10, 15, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2400, 3600, 7200, 14_400, 28_800, 86_400,
];

/** A round top for the axis: the next of 1s, 2s, 5s, ... 1m, 2m, 5m, ... above the value. */
export function niceCeiling(ms: number): number {
  if (ms <= 0) return 1000;
  if (ms < 1000) return Math.ceil(ms / 100) * 100;
  const seconds = NICE_SECONDS.find((s) => s * 1000 >= ms);
  return seconds ? seconds * 1000 : Math.ceil(ms / 86_400_000) * 86_400_000;
}

const fixed = (n: number) => n.toFixed(1);

function open(id: string, width: number, height: number, title: string, desc: string, kind: string): string {
  return (
    `<svg class="${kind}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${id}-t ${id}-d">` +
    `<title id="${id}-t">${escapeHtml(title)}</title><desc id="${id}-d">${escapeHtml(desc)}</desc>`
  );
}

/** "M x y L x y ..." that lifts the pen where a run has no value. */
function linePath(points: ({ x: number; y: number } | undefined)[]): string {
  let path = '';
  let pen = false;
  for (const p of points) {
    if (!p) {
      pen = false;
      continue;
    }
    path += `${pen ? 'L' : 'M'}${fixed(p.x)} ${fixed(p.y)}`;
    pen = true;
  }
  return path;
}

const W = 480;
const H = 170;
const PAD = { left: 56, right: 10, top: 12, bottom: 26 };

/** One step's duration per run (oldest left), the band of the middle half of runs, the median dashed. */
export function durationChart(trend: StepTrend, history: HistoryEntry[], id: string): string {
  const n = history.length;
  const top = niceCeiling(trend.maxMs);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (n <= 1 ? plotW / 2 : (i * plotW) / (n - 1));
  const y = (ms: number) => PAD.top + plotH * (1 - Math.min(ms, top) / top);
  const points = trend.values.map((v, i) => (v === undefined ? undefined : { x: x(i), y: y(v) }));
  const latest = trend.values[n - 1];
  const desc =
    `${n} run${n === 1 ? '' : 's'} from ${runDay(history[0]!.time)} to ${runDay(history[n - 1]!.time)}. ` +
    `Median ${formatDuration(Math.round(trend.medianMs))}; the middle half of runs took ` +
    `${formatDuration(Math.round(trend.lowMs))} to ${formatDuration(Math.round(trend.highMs))}; ` +
    `slowest ${formatDuration(trend.maxMs)}; latest ${latest === undefined ? 'did not run' : formatDuration(latest)}. ` +
    `Failed at this step in ${trend.failures} run${trend.failures === 1 ? '' : 's'}.`;
  const marks = history.flatMap((entry, i) => {
    const p = points[i];
    if (!p) return [];
    const failedHere = entry.result === 'failed' && entry.failingStep === trend.step;
    if (!failedHere && n > MARKED_RUNS) return [];
    const tip = `${runTime(entry.time)}: ${formatDuration(trend.values[i]!)}${failedHere ? ', failed here' : ''}`;
    return failedHere
      ? [`<text class="fail-mark" x="${fixed(p.x)}" y="${fixed(p.y + 5)}"><title>${escapeHtml(tip)}</title>✗</text>`]
      : [
          `<circle class="dot" cx="${fixed(p.x)}" cy="${fixed(p.y)}" r="2.5"><title>${escapeHtml(tip)}</title></circle>`,
        ];
  });
  const bottom = PAD.top + plotH;
  return [
    open(id, W, H, `${trend.step}: duration per run`, desc, 'chart'),
    `<rect class="band" x="${PAD.left}" y="${fixed(y(trend.highMs))}" width="${plotW}" height="${fixed(Math.max(1, y(trend.lowMs) - y(trend.highMs)))}"/>`,
    `<line class="median" x1="${PAD.left}" x2="${W - PAD.right}" y1="${fixed(y(trend.medianMs))}" y2="${fixed(y(trend.medianMs))}"/>`,
    `<line class="axis" x1="${PAD.left}" x2="${W - PAD.right}" y1="${bottom}" y2="${bottom}"/>`,
    `<line class="axis" x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${bottom}"/>`,
    `<text class="tick" x="${PAD.left - 6}" y="${PAD.top + 4}" text-anchor="end">${escapeHtml(formatDuration(top))}</text>`,
    `<text class="tick" x="${PAD.left - 6}" y="${bottom}" text-anchor="end">0</text>`,
    `<text class="tick" x="${PAD.left}" y="${H - 6}">${escapeHtml(runDay(history[0]!.time))}</text>`,
    `<text class="tick" x="${W - PAD.right}" y="${H - 6}" text-anchor="end">${escapeHtml(runDay(history[n - 1]!.time))}</text>`,
    `<path class="line${n > MARKED_RUNS ? ' dense' : ''}" d="${linePath(points)}"/>`,
    ...marks,
    '</svg>',
  ].join('');
}

/** A small trend line of the latest values, its newest point marked. */
export function sparkline(values: (number | undefined)[], id: string, title: string, desc: string): string {
  const width = 160;
  const height = 36;
  const ran = values.filter((v): v is number => v !== undefined);
  const top = Math.max(1, ...ran);
  const x = (i: number) => 3 + (values.length <= 1 ? (width - 6) / 2 : (i * (width - 6)) / (values.length - 1));
  const y = (v: number) => 3 + (height - 6) * (1 - v / top);
  const points = values.map((v, i) => (v === undefined ? undefined : { x: x(i), y: y(v) }));
  const last = [...points].reverse().find(Boolean);
  return [
    open(id, width, height, title, desc, 'spark'),
    `<path class="line" d="${linePath(points)}"/>`,
    last ? `<circle class="dot" cx="${fixed(last.x)}" cy="${fixed(last.y)}" r="3"/>` : '',
    '</svg>',
  ].join('');
}
