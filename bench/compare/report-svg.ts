import type { CompareResults, SystemResult } from './compare-results.js';
import { count } from './report-markdown.js';
import type { Spread } from './stats.js';

/**
 * The chart of a `bench:compare` run, as hand-written SVG (no chart library): one panel of
 * horizontal grouped bars for throughput (produce, consume, parallel producers; records/s) and
 * one for latency (sequential p50 and p99, end-to-end p99 at the lowest rate; ms). Bars are
 * medians with a min–max whisker, each labelled with its value; a figure that is missing is
 * labelled "n/a" rather than drawn as zero.
 */

interface Series {
  readonly label: string;
  readonly color: string;
  readonly value: (system: SystemResult) => Spread | null;
}

interface Panel {
  readonly title: string;
  readonly series: readonly Series[];
  readonly format: (value: number) => string;
}

const WIDTH = 980;
const LABEL_WIDTH = 270;
const VALUE_LABEL_WIDTH = 150;
const BAR_HEIGHT = 13;
const BAR_GAP = 3;
const GROUP_GAP = 14;
const PANEL_TOP = 64;
const TICKS = 5;
/** Characters of a system name per line beside the bars (about 7.5 px each at 12.5 px bold). */
const LABEL_CHARS_MAX = 33;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

/** The SVG document. */
export function formatSvgReport(results: CompareResults): string {
  const systems = results.systems.filter((system) => system.startError === null);
  const lowestRate = Math.min(...results.plan.endToEndRatesPerSecond);
  const panels: Panel[] = [
    {
      title: 'Throughput, records/s (median; whisker min–max)',
      format: count,
      series: [
        { label: `(a) produce, 1 producer, ${count(results.plan.produceInFlight)} in flight`, color: '#2f6fb0', value: (system) => system.produce?.recordsPerSecond ?? null },
        { label: '(c) consume, 1 consumer', color: '#3c9d5d', value: (system) => system.consume?.recordsPerSecond ?? null },
        { label: `(e) ${results.plan.parallelProducers} producers`, color: '#d08a2c', value: (system) => system.parallel?.recordsPerSecond ?? null },
      ],
    },
    {
      title: 'Latency, ms (median; whisker min–max) — shorter is better',
      format: (value) => `${value.toFixed(value < 10 ? 2 : 1)} ms`,
      series: [
        { label: '(b) sequential produce p50', color: '#7a5fb5', value: (system) => system.sequential?.p50 ?? null },
        { label: '(b) sequential produce p99', color: '#b5487a', value: (system) => system.sequential?.p99 ?? null },
        { label: `(d) end-to-end p99 at ${count(lowestRate)}/s`, color: '#4a8f9c', value: (system) => system.endToEnd.find((entry) => entry.ratePerSecond === lowestRate)?.p99 ?? null },
      ],
    },
  ];
  const parts: string[] = [];
  let y = 34;
  parts.push(text(16, 24, `bench:compare — ${results.startedIso.slice(0, 19).replace('T', ' ')}${results.plan.quick ? ' (quick)' : ''} — ${results.machine.cpuModel} × ${results.machine.cpuCount}`, 15, 'start', 'bold'));
  for (const panel of panels) {
    const drawn = drawPanel(panel, systems, y);
    parts.push(drawn.svg);
    y = drawn.bottom + 24;
  }
  const height = y;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ${FONT}>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

function drawPanel(panel: Panel, systems: readonly SystemResult[], top: number): { svg: string; bottom: number } {
  const plotLeft = LABEL_WIDTH;
  const plotWidth = WIDTH - LABEL_WIDTH - VALUE_LABEL_WIDTH;
  const maxValue = Math.max(0, ...systems.flatMap((system) => panel.series.map((series) => series.value(system)?.max ?? 0)));
  const scaleMax = niceCeiling(maxValue);
  const x = (value: number): number => plotLeft + (scaleMax === 0 ? 0 : (value / scaleMax) * plotWidth);
  const parts: string[] = [text(16, top + 20, panel.title, 14, 'start', 'bold')];
  panel.series.forEach((series, index) => {
    const legendX = 16 + index * 300;
    parts.push(`<rect x="${legendX}" y="${top + 32}" width="12" height="12" fill="${series.color}"/>`, text(legendX + 18, top + 43, series.label, 12));
  });
  const plotTop = top + PANEL_TOP;
  const groupHeight = panel.series.length * (BAR_HEIGHT + BAR_GAP) - BAR_GAP;
  const plotBottom = plotTop + systems.length * (groupHeight + GROUP_GAP);
  for (let tick = 0; tick <= TICKS; tick++) {
    const value = (scaleMax * tick) / TICKS;
    const tickX = x(value);
    parts.push(`<line x1="${tickX.toFixed(1)}" y1="${plotTop - 6}" x2="${tickX.toFixed(1)}" y2="${plotBottom}" stroke="#e3e3e3"/>`);
    parts.push(text(tickX, plotTop - 10, panel.format(value), 11, 'middle'));
  }
  systems.forEach((system, index) => {
    const groupTop = plotTop + index * (groupHeight + GROUP_GAP);
    const nameLines = wrapLabel(system.name, LABEL_CHARS_MAX);
    nameLines.forEach((line, lineIndex) => {
      const lineY = groupTop + groupHeight / 2 + 4 + (lineIndex - (nameLines.length - 1) / 2) * 15;
      parts.push(text(plotLeft - 10, lineY, line, 12.5, 'end', 'bold'));
    });
    panel.series.forEach((series, seriesIndex) => {
      const barTop = groupTop + seriesIndex * (BAR_HEIGHT + BAR_GAP);
      const spread = series.value(system);
      if (spread === null) {
        parts.push(text(plotLeft + 4, barTop + BAR_HEIGHT - 2, 'n/a', 11, 'start', 'normal', '#888888'));
        return;
      }
      const barEnd = x(spread.median);
      parts.push(`<rect x="${plotLeft}" y="${barTop}" width="${Math.max(1, barEnd - plotLeft).toFixed(1)}" height="${BAR_HEIGHT}" fill="${series.color}"><title>${escapeXml(`${system.name}: ${series.label}: ${panel.format(spread.median)} (${panel.format(spread.min)}–${panel.format(spread.max)})`)}</title></rect>`);
      const whiskerY = barTop + BAR_HEIGHT / 2;
      if (spread.max > spread.min) {
        parts.push(`<line x1="${x(spread.min).toFixed(1)}" y1="${whiskerY}" x2="${x(spread.max).toFixed(1)}" y2="${whiskerY}" stroke="#222222" stroke-width="1.2"/>`);
        for (const end of [spread.min, spread.max]) parts.push(`<line x1="${x(end).toFixed(1)}" y1="${whiskerY - 4}" x2="${x(end).toFixed(1)}" y2="${whiskerY + 4}" stroke="#222222" stroke-width="1.2"/>`);
      }
      parts.push(text(Math.max(barEnd, x(spread.max)) + 6, barTop + BAR_HEIGHT - 2, panel.format(spread.median), 11));
    });
  });
  parts.push(`<line x1="${plotLeft}" y1="${plotTop - 6}" x2="${plotLeft}" y2="${plotBottom}" stroke="#555555"/>`);
  return { svg: parts.join('\n'), bottom: plotBottom };
}

/** `label` in at most two lines of `charsMax`, broken at a space; a second line that is still too long ends in "…". */
export function wrapLabel(label: string, charsMax: number): string[] {
  if (label.length <= charsMax) return [label];
  const breakAt = label.lastIndexOf(' ', charsMax);
  const first = breakAt > 0 ? label.slice(0, breakAt) : label.slice(0, charsMax);
  const rest = label.slice(first.length).trim();
  return [first, rest.length <= charsMax ? rest : `${rest.slice(0, charsMax - 1)}…`];
}

/** The smallest of 1, 2, 2.5, 5 × 10^k at or above `value` (0 stays 0), so ticks fall on round numbers. */
export function niceCeiling(value: number): number {
  if (value <= 0) return 0;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function text(x: number, y: number, content: string, size: number, anchor: 'start' | 'middle' | 'end' = 'start', weight: 'normal' | 'bold' = 'normal', color = '#222222'): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-size="${size}" text-anchor="${anchor}" font-weight="${weight}" fill="${color}">${escapeXml(content)}</text>`;
}

/** Text safe inside an SVG element or attribute. */
export function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
