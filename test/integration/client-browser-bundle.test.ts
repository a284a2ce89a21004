import { build, type Metafile, type Plugin } from 'esbuild';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as ClientModule from '../../src/client/index.js';
import { CliProcess } from '../helpers/process.js';
import { makeTempDir } from '../helpers/storage.js';

/**
 * The client must run in a browser: its import graph may hold nothing of Node. This bundles
 * src/client/index.ts with esbuild for platform 'browser' exactly as a web application would,
 * with one substitution: the package `fast-crc32c` (which src/record uses, and which loads a
 * native addon or falls back to Buffer) becomes src/client/crc32c-browser.ts, and its native
 * implementation module an empty one (so src/record detects 'javascript'). Then it checks the
 * bundle's text and inputs, and runs it: with globalThis.WebSocket set to a WHATWG-compatible
 * class (ws's), the bundled Admin, Producer and Consumer talk to a real broker.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CRC32C_BROWSER = join(ROOT, 'src/client/crc32c-browser.ts');
const NO_NATIVE_NAMESPACE = 'sluice-no-native-crc32c';

/** The substitution a browser build of the client needs (an application's bundler config does the same). */
const browserCrc32c: Plugin = {
  name: 'sluice-browser-crc32c',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^fast-crc32c$/ }, () => ({ path: CRC32C_BROWSER }));
    pluginBuild.onResolve({ filter: /^fast-crc32c\/impls\/sse4_crc32c(\.js)?$/ }, (args) => ({ path: args.path, namespace: NO_NATIVE_NAMESPACE }));
    pluginBuild.onLoad({ filter: /.*/, namespace: NO_NATIVE_NAMESPACE }, () => ({ contents: 'export default undefined;', loader: 'js' }));
  },
};

let bundle: string;
let metafile: Metafile;
let warnings: string[];
let broker: CliProcess;
let url: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const result = await build({
    entryPoints: [join(ROOT, 'src/client/index.ts')],
    bundle: true, platform: 'browser', format: 'esm', target: 'es2022', write: false, metafile: true, logLevel: 'silent',
    plugins: [browserCrc32c],
  });
  bundle = result.outputFiles[0]!.text;
  metafile = result.metafile;
  warnings = result.warnings.map((warning) => warning.text);
  let dir: string;
  ({ dir, cleanup } = await makeTempDir('sluice-client-browser-'));
  broker = CliProcess.start(['broker', '--port', '0', '--data-dir', dir]);
  url = `ws://127.0.0.1:${(await broker.waitForLog('broker started')).port as number}`;
}, 60_000);

afterAll(async () => {
  expect(await broker.stop()).toBe(0);
  await cleanup();
});

describe('the client bundled for browsers', () => {
  it('builds without errors or warnings', () => {
    expect(bundle.length).toBeGreaterThan(10_000);
    expect(warnings).toEqual([]);
  });

  it('holds nothing of Node: no ws, no node: modules, no require, no Buffer or process', () => {
    expect(bundle).not.toMatch(/require\(\s*["']ws["']\s*\)/);
    expect(bundle).not.toMatch(/from\s*["']ws["']/);
    expect(bundle).not.toMatch(/["']node:/);
    expect(bundle).not.toMatch(/\brequire\s*\(/);
    expect(bundle).not.toMatch(/\bBuffer\./);
    expect(bundle).not.toMatch(/\bprocess\./);
    const inputs = Object.keys(metafile.inputs);
    expect(inputs.filter((input) => input.includes('node_modules'))).toEqual([]);
    expect(inputs.filter((input) => input.endsWith('src/client/node.ts'))).toEqual([]);
    expect(inputs.some((input) => input.endsWith('src/client/crc32c-browser.ts'))).toBe(true);
    expect(inputs.some((input) => input.endsWith('src/record/record-batch-encoder.ts'))).toBe(true);
  });

  it('bundles the package root (src/index.ts) for browsers just as cleanly', async () => {
    const root = await build({
      entryPoints: [join(ROOT, 'src/index.ts')],
      bundle: true, platform: 'browser', format: 'esm', target: 'es2022', write: false, metafile: true, logLevel: 'silent',
      plugins: [browserCrc32c],
    });
    expect(root.warnings).toEqual([]);
    expect(Object.keys(root.metafile.inputs).filter((input) => input.includes('node_modules') || input.endsWith('src/client/node.ts'))).toEqual([]);
    expect(root.outputFiles[0]!.text).not.toMatch(/\brequire\s*\(|["']node:/);
  });

  it('runs: with only a global WebSocket, the bundled Admin, Producer and Consumer produce and consume against a real broker', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-bundle-'));
    const file = join(dir, 'sluice-client.mjs');
    await writeFile(file, bundle);
    const globals = globalThis as { WebSocket?: unknown };
    const previous = globals.WebSocket;
    globals.WebSocket = WebSocket;
    try {
      const client = (await import(pathToFileURL(file).href)) as typeof ClientModule;
      const admin = new client.Admin({ url });
      await admin.createTopic('from-the-browser', 2);
      const producer = new client.Producer({ url, lingerMs: 1 });
      const sent = await Promise.all(Array.from({ length: 50 }, (_, index) => producer.send({ topic: 'from-the-browser', key: `k${index % 7}`, value: `browser record ${index}` })));
      expect(producer.idempotenceActive).toBe(true);
      sent.forEach((metadata, index) => expect(metadata.partition).toBe(client.partitionForKey(new TextEncoder().encode(`k${index % 7}`), 2)));
      await producer.close();

      const consumer = new client.Consumer({ url, from: 'earliest' });
      await consumer.subscribe(['from-the-browser']);
      const values: string[] = [];
      for await (const record of consumer.records({ signal: AbortSignal.timeout(20_000) })) {
        expect(Object.getPrototypeOf(record.value)).toBe(Uint8Array.prototype);
        values.push(new TextDecoder().decode(record.value!));
        if (values.length === 50) break;
      }
      await consumer.close();
      admin.close();
      expect(values.sort()).toEqual(Array.from({ length: 50 }, (_, index) => `browser record ${index}`).sort());
    } finally {
      globals.WebSocket = previous;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
