/**
 * The history page's look, inlined into the page so it works from file:// and as a downloaded
 * artifact: system fonts only, nothing fetched. Failures are striped as well as red, and every
 * run carries a ✓ or ✗, so the page reads the same in greyscale, print and forced colours.
 */
export const PAGE_CSS = `
:root { color-scheme: light dark; --fg: #1f2328; --muted: #59636e; --bg: #fff; --panel: #f6f8fa;
  --pass: #1a7f37; --fail: #cf222e; --fail-dark: #8e1519; --band: #ddf4ff; --line: #0969da; --grid: #d1d9e0; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --panel: #151b23;
    --pass: #238636; --fail: #da3633; --fail-dark: #8e1519; --band: #12263f; --line: #4493f8; --grid: #3d444d; }
}
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--fg);
  background: var(--bg); margin: 0 auto; max-width: 1080px; padding: 24px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.15rem; margin: 28px 0 8px; }
.meta, .note, .ends { color: var(--muted); font-size: 0.9rem; margin: 4px 0; }
.streak { font-size: 1.3rem; font-weight: 600; margin: 16px 0; padding: 10px 16px; border-left: 8px solid;
  border-radius: 6px; background: var(--panel); }
.streak.passed { border-color: var(--pass); }
.streak.failed { border-color: var(--fail); border-left-style: double; border-left-width: 12px; }
.strip { display: flex; flex-wrap: wrap; gap: 4px; list-style: none; margin: 8px 0 0; padding: 0; }
.strip a, .strip span { display: flex; align-items: center; justify-content: center; width: 26px; height: 36px;
  border-radius: 4px; color: #fff; font-weight: 700; font-size: 1.05rem; text-decoration: none; }
.strip .passed > * { background: var(--pass); }
.strip .failed > * { background: repeating-linear-gradient(135deg, var(--fail) 0 5px, var(--fail-dark) 5px 10px); }
.strip a:hover, .strip a:focus-visible { outline: 3px solid var(--line); outline-offset: 2px; }
.strip-box { display: inline-block; max-width: 100%; }
.ends { display: flex; justify-content: space-between; gap: 16px; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: 12px 20px; }
figure { margin: 0; }
figcaption { font-weight: 600; }
svg.chart { width: 100%; height: auto; display: block; }
svg.spark { width: 160px; height: 36px; display: block; }
.band { fill: var(--band); }
.median { stroke: var(--muted); stroke-width: 1.5; stroke-dasharray: 6 4; }
.axis { stroke: var(--grid); }
.line { fill: none; stroke: var(--line); stroke-width: 2; stroke-linejoin: round; }
.line.dense { stroke-width: 1; }
.dot { fill: var(--line); }
.fail-mark { fill: var(--fail); font-size: 16px; font-weight: 700; text-anchor: middle; }
.tick { fill: var(--muted); font-size: 11px; }
.key { display: inline-block; width: 22px; height: 10px; vertical-align: middle; margin: 0 4px 0 12px; }
.key.band { background: var(--band); }
.key.median { border-top: 2px dashed var(--muted); height: 0; }
.key.line { border-top: 2px solid var(--line); height: 0; }
.fail-key { color: var(--fail); font-weight: 700; margin: 0 4px 0 12px; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--grid); text-align: left; vertical-align: middle; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
details { margin-top: 8px; }
summary { cursor: pointer; }
a { color: var(--line); }
`;
