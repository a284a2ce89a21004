import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * src/protocol runs in browsers too (docs/protocol.md is spoken by browser clients): it may use
 * Uint8Array, DataView and TextEncoder/TextDecoder, and nothing of Node. These tests read the
 * sources as text, and follow their imports so that nothing Node-only comes in through another
 * folder either.
 */

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));
const PROTOCOL = join(SRC, 'protocol');
/** The only folders src/protocol may import from (src/record is not among them: its CRC-32C loads a native addon). */
const ALLOWED_FOLDERS = ['protocol', 'errors'] as const;
/** Bound on the import walk; src/ has far fewer files than this. */
const FILES_VISITED_MAX = 500;

function sourcesUnder(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join(folder, name));
}

/** The module specifiers a TypeScript file imports or re-exports, static or dynamic. */
function importsOf(source: string): string[] {
  const specifiers: string[] = [];
  for (const match of source.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]/g)) specifiers.push(match[1]!);
  for (const match of source.matchAll(/(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)) specifiers.push(match[1]!);
  for (const match of source.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) specifiers.push(match[1]!);
  for (const match of source.matchAll(/\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) specifiers.push(match[1]!);
  return specifiers;
}

/** src/protocol and every file it reaches through relative imports. */
function importClosure(): string[] {
  const pending = sourcesUnder(PROTOCOL);
  const visited = new Set<string>();
  while (pending.length > 0 && visited.size < FILES_VISITED_MAX) {
    const file = pending.pop()!;
    if (visited.has(file)) continue;
    visited.add(file);
    for (const specifier of importsOf(readFileSync(file, 'utf8'))) {
      if (specifier.startsWith('.')) pending.push(resolve(dirname(file), specifier).replace(/\.js$/, '.ts'));
    }
  }
  expect(pending.length, 'import walk ran past FILES_VISITED_MAX').toBe(0);
  return [...visited];
}

describe('src/protocol is browser-safe', () => {
  const files = importClosure();

  it('finds the protocol sources', () => {
    expect(files.filter((file) => file.startsWith(PROTOCOL)).length).toBeGreaterThanOrEqual(20);
  });

  it('imports no node: module and no package, only relative files', () => {
    for (const file of files) {
      for (const specifier of importsOf(readFileSync(file, 'utf8'))) {
        expect(specifier, relative(SRC, file)).toMatch(/^\.\.?\//);
      }
    }
  });

  it(`reaches only ${ALLOWED_FOLDERS.join(' and ')} through its imports`, () => {
    for (const file of files) {
      expect(ALLOWED_FOLDERS as readonly string[], relative(SRC, file)).toContain(relative(SRC, file).split('/')[0]);
    }
  });

  it('never names Buffer, process, require or a node: module, even in comments', () => {
    for (const file of files) {
      const source = readFileSync(file, 'utf8');
      for (const forbidden of [/\bBuffer\b/, /\bprocess\.\w/, /\brequire\s*\(/, /['"]node:/, /\b__dirname\b/, /\bglobal\.\w/]) {
        expect(source, `${relative(SRC, file)} matches ${forbidden}`).not.toMatch(forbidden);
      }
    }
  });

  it('detects what it looks for (the checks are not vacuous)', () => {
    expect(importsOf(`import { readFileSync } from 'node:fs';\nexport * from './x.js';\nconst y = await import('z');`)).toEqual(['node:fs', './x.js', 'z']);
    expect('const b = Buffer.from(x)').toMatch(/\bBuffer\b/);
    expect('const b = new ArrayBuffer(8)').not.toMatch(/\bBuffer\b/);
  });
});
