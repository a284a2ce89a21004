import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { runCli } from '../helpers/process.js';

/** A JSON answer from the broker's HTTP face. */
export interface HttpAnswer {
  readonly status: number;
  readonly json: any;
  readonly headers: Headers;
}

/** Sends one request (bounded by `timeoutMs`) and parses a JSON answer. */
export async function call(port: number, method: string, path: string, body?: unknown, timeoutMs = 15_000): Promise<HttpAnswer> {
  const init: RequestInit = { method, signal: AbortSignal.timeout(timeoutMs) };
  if (body !== undefined) init.body = typeof body === 'string' || body instanceof Uint8Array ? body as BodyInit : JSON.stringify(body);
  const response = await fetch(`http://127.0.0.1:${port}${path}`, init);
  const text = await response.text();
  return { status: response.status, json: text === '' ? null : JSON.parse(text), headers: response.headers };
}

/** The Prometheus text of `/metrics`. */
export async function scrape(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(15_000) });
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return response.text();
}

/** The value of one series in a scrape, e.g. `sluice_produce_records_total{transport="http"}`; 0 when absent. */
export function sample(metricsText: string, series: string): number {
  const line = metricsText.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/** Records as `dump-log --json --records` reads them from a partition directory's files. */
export async function dumpRecords(dataDir: string, partitionDir: string): Promise<Array<{ offset: number; key: string | null; value: string | null; headers: Array<{ key: string; value: string | null }> }>> {
  const result = await runCli(['dump-log', join(dataDir, partitionDir), '--json', '--records', '--verify']);
  if (result.code !== 0) throw new Error(`dump-log failed: ${result.stdout}${result.stderr}`);
  return result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { record?: never }).filter((entry) => 'record' in entry).map((entry) => entry.record!);
}

/** Batch sizes as `dump-log --json` reads them. */
export async function dumpBatchSizes(dataDir: string, partitionDir: string): Promise<number[]> {
  const result = await runCli(['dump-log', join(dataDir, partitionDir), '--json', '--verify']);
  if (result.code !== 0) throw new Error(`dump-log failed: ${result.stdout}${result.stderr}`);
  return result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { sizeBytes?: number }).filter((entry) => entry.sizeBytes !== undefined).map((entry) => entry.sizeBytes!);
}

/**
 * Starts a POST that declares `declaredBytes` but sends only a few; resolves with the status the
 * broker answers and how long after that the broker closed the connection (null if it did not
 * within `waitMs`).
 */
export function postDeclaringHugeBody(port: number, path: string, declaredBytes: number, waitMs: number): Promise<{ status: number; closedAfterMs: number | null }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, method: 'POST', path, headers: { 'content-length': declaredBytes } });
    let status = 0;
    let answeredAtMs = 0;
    const timer = setTimeout(() => {
      request.destroy();
      resolve({ status, closedAfterMs: null });
    }, waitMs);
    request.on('response', (response) => {
      status = response.statusCode!;
      answeredAtMs = Date.now();
      response.resume();
    });
    request.on('close', () => {
      clearTimeout(timer);
      if (status === 0) reject(new Error('the connection closed without an answer'));
      else resolve({ status, closedAfterMs: Date.now() - answeredAtMs });
    });
    request.on('error', () => { /* the broker closing the connection ends the request; 'close' reports it */ });
    request.write('{"records":[');
  });
}
