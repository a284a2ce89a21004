import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BROKER_SETTINGS, ConfigError, envName, loadBrokerConfig } from '../../../src/config/broker-config.js';

const tempDirs: string[] = [];

afterEach(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

// A temp directory removed after the test.
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-config-'));
  tempDirs.push(dir);
  return dir;
}

describe('broker configuration', () => {
  it('starts from the documented defaults and is frozen', () => {
    const config = loadBrokerConfig();
    expect(config.dataDir).toBe('./data');
    expect(config.segmentBytes).toBe(1024 ** 3);
    expect(config.retentionBytes).toBeNull();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('takes file, then environment, then flags, later sources winning', () => {
    const dir = tempDir();
    const file = join(dir, 'broker.json');
    writeFileSync(file, JSON.stringify({ segmentBytes: 4096, indexIntervalBytes: 100, retentionMs: null }));
    const config = loadBrokerConfig({
      file,
      env: { SLUICE_INDEX_INTERVAL_BYTES: '200', SLUICE_BATCH_BYTES_MAX: '2048' },
      flags: { batchBytesMax: '3000' },
    });
    expect(config.segmentBytes).toBe(4096);
    expect(config.indexIntervalBytes).toBe(200);
    expect(config.batchBytesMax).toBe(3000);
    expect(config.retentionMs).toBeNull();
  });

  it('names the setting and its source when a value is out of bounds', () => {
    expect(() => loadBrokerConfig({ flags: { segmentBytes: '12' } })).toThrow(/segmentBytes \(from command line\): 12 is outside/);
    expect(() => loadBrokerConfig({ env: { SLUICE_SEGMENT_MS: 'soon' } })).toThrow(/segmentMs \(from env SLUICE_SEGMENT_MS\): must be an integer/);
  });

  it('refuses null for a setting that cannot be switched off, and unknown settings in a file', () => {
    expect(() => loadBrokerConfig({ flags: { segmentBytes: 'null' } })).toThrow(ConfigError);
    const dir = tempDir();
    const file = join(dir, 'broker.json');
    writeFileSync(file, JSON.stringify({ segmentSize: 4096 }));
    expect(() => loadBrokerConfig({ file })).toThrow(/segmentSize .*unknown setting/);
    writeFileSync(file, '{ not json');
    expect(() => loadBrokerConfig({ file })).toThrow(ConfigError);
  });

  it('refuses settings that are valid alone but not together, naming the setting', () => {
    expect(() => loadBrokerConfig({ flags: { maxFrameBytes: '1048576', batchBytesMax: '1048576' } })).toThrow(/maxFrameBytes \(from command line\): .* must exceed batchBytesMax/);
    expect(() => loadBrokerConfig({ flags: { creditBytesMax: '524288', batchBytesMax: '1048576' } })).toThrow(/creditBytesMax .* must be at least batchBytesMax/);
    expect(() => loadBrokerConfig({ flags: { partitionCountMax: '4' } })).toThrow(/partitionCountMax .* is below offsetsTopicPartitionCount/);
  });

  it('puts the unit last in the name of every setting measured in bytes or milliseconds', () => {
    for (const [name, setting] of Object.entries(BROKER_SETTINGS)) {
      if (setting.kind !== 'integer') continue;
      if (setting.unit === 'bytes') expect(name).toMatch(/Bytes(Max)?$/);
      else if (setting.unit === 'ms') expect(name).toMatch(/Ms(Max)?$/);
      else expect(name, `${name} is a ${setting.unit}`).not.toMatch(/(Bytes|Ms)(Max)?$/);
    }
  });

  it('documents every setting in docs/configuration.md', () => {
    const doc = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
    for (const name of Object.keys(BROKER_SETTINGS) as Array<keyof typeof BROKER_SETTINGS>) {
      expect(doc, name).toContain(`\`${name}\``);
      expect(doc, name).toContain(`\`${envName(name)}\``);
    }
  });
});
