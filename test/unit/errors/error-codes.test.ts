import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, SluiceError, isSluiceError } from '../../../src/errors/index.js';

describe('error codes', () => {
  it('gives every code a distinct number', () => {
    const numbers = Object.values(ERROR_CODES).map((entry) => entry.code);
    expect(new Set(numbers).size).toBe(numbers.length);
  });

  it('documents every code in docs/errors.md with its number and retriability', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    for (const [name, entry] of Object.entries(ERROR_CODES)) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
      expect(row, name).toBeDefined();
      const cells = row!.split('|').map((cell) => cell.trim());
      expect(cells[2], name).toBe(String(entry.code));
      expect(cells[3], name).toBe(entry.retriable ? 'yes' : 'no');
    }
  });

  it('carries name, number and retriability on the error object', () => {
    const error = new SluiceError('OFFSET_OUT_OF_RANGE', 'offset 9 is outside [0, 3]');
    expect(error.code).toBe(1);
    expect(error.retriable).toBe(false);
    expect(error.message).toContain('offset 9 is outside [0, 3]');
    expect(isSluiceError(error, 'OFFSET_OUT_OF_RANGE')).toBe(true);
    expect(isSluiceError(error, 'CORRUPT_MESSAGE')).toBe(false);
    expect(isSluiceError(new Error('x'))).toBe(false);
  });
});
