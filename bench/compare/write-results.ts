import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CompareResults } from './compare-results.js';
import { formatMarkdownReport } from './report-markdown.js';
import { formatSvgReport } from './report-svg.js';

/**
 * Writes compare-<stamp>.{json,md,svg} and compare-latest.{json,md,svg} to `resultsDir`;
 * returns the file names written.
 */
export async function writeCompareResults(resultsDir: string, results: CompareResults): Promise<string[]> {
  await mkdir(resultsDir, { recursive: true });
  const stamp = results.startedIso.replace(/[:.]/g, '-');
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const svg = formatSvgReport(results);
  const names: string[] = [];
  for (const base of [`compare-${stamp}`, 'compare-latest']) {
    const files: Record<string, string> = { [`${base}.json`]: json, [`${base}.svg`]: svg, [`${base}.md`]: formatMarkdownReport(results, `${base}.svg`) };
    for (const [name, content] of Object.entries(files)) {
      await writeFile(join(resultsDir, name), content);
      names.push(name);
    }
  }
  return names;
}
