import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeMachine } from '../common/machine-info.js';
import type { LimitFigures } from '../limits/limit-figures.js';
import type { CompareResults, SystemResult } from './compare-results.js';
import { measureLimits } from '../limits/measure-limits.js';
import { measureSystem } from './measure-system.js';
import { comparePlan } from './plan.js';
import { formatMarkdownReport } from './report-markdown.js';
import type { SystemUnderTest } from './system.js';
import { systemsInRunOrder } from './systems/index.js';
import { writeCompareResults } from './write-results.js';

/**
 * `npm run bench:compare [-- --quick] [--only <substring>] [--runs N] [--no-limits] [--no-results]`:
 * the machine's limits, then each registered system in turn (start, ack check, workloads, stop),
 * then the markdown report on stdout and JSON, markdown and SVG in bench/results/. Progress goes
 * to stderr. Orchestration only: every step lives in its own module.
 */

const RESULTS_DIR = fileURLToPath(new URL('../../../bench/results/', import.meta.url));

let current: SystemUnderTest | null = null;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping ${current?.name ?? 'nothing'} and exiting`);
    void (current?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      runs: { type: 'string', default: '3' },
      'no-limits': { type: 'boolean', default: false },
      'no-results': { type: 'boolean', default: false },
    },
  });
  const plan = comparePlan(values.quick, Number(values.runs));
  const startedIso = new Date().toISOString();
  const machine = await describeMachine(tmpdir());
  const { limits, limitsError } = values['no-limits'] ? { limits: null, limitsError: '--no-limits' } : await limitsOrError();
  const notes: string[] = [];
  const systems = await systemsInRunOrder((line) => { notes.push(line); progress(line); }, values.only ?? null);
  progress(`systems: ${systems.map((system) => system.name).join(', ') || 'none'}${values.only === undefined ? '' : ` (--only ${values.only})`}`);
  const measured: SystemResult[] = [];
  for (const system of systems) {
    current = system;
    measured.push(await measureSystem(system, plan, progress));
    current = null;
  }
  const results: CompareResults = { startedIso, finishedIso: new Date().toISOString(), machine, plan, limits, limitsError, notes, systems: measured };
  process.stdout.write(formatMarkdownReport(results));
  if (values['no-results']) return;
  const names = await writeCompareResults(RESULTS_DIR, results);
  process.stdout.write(`\nwrote ${names.map((name) => relative(process.cwd(), join(RESULTS_DIR, name))).join(', ')}\n`);
}

// The limits in a temp dir of their own (on the file system the systems use); a failure is reported, not fatal.
async function limitsOrError(): Promise<{ limits: LimitFigures | null; limitsError: string | null }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-compare-limits-'));
  try {
    return { limits: await measureLimits(dataDir, progress), limitsError: null };
  } catch (error) {
    return { limits: null, limitsError: error instanceof Error ? error.message : String(error) };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

await main();
