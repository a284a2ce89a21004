import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLUSTER_SETTINGS, CONNECTION_SETTINGS, CONSUMER_SETTINGS, PRODUCER_SETTINGS } from '../../../src/client/client-config.js';
import { Admin } from '../../../src/client/admin.js';

/** Every client setting is documented where users look, and a bad value fails with its name. */

const README = readFileSync(new URL('../../../src/client/README.md', import.meta.url), 'utf8');

describe('client settings', () => {
  it('are each named in src/client/README.md, with a unit last in the name or a count', () => {
    for (const table of [CLUSTER_SETTINGS, CONNECTION_SETTINGS, CONSUMER_SETTINGS, PRODUCER_SETTINGS]) {
      for (const [name, setting] of Object.entries(table)) {
        expect(README, name).toContain(`\`${name}\``);
        if (setting.unit === 'ms') expect(name, name).toMatch(/Ms(Max)?$/);
        if (setting.unit === 'bytes') expect(name, name).toMatch(/Bytes(Max)?$/);
      }
    }
  });

  it('fail at construction with the setting named, for the cluster settings too', () => {
    expect(() => new Admin({ url: 'ws://a:1', metadataMaxAgeMs: 0 })).toThrow('admin.metadataMaxAgeMs = 0');
    expect(() => new Admin({ url: 'ws://a:1', retries: -1 })).toThrow('admin.retries = -1');
    expect(() => new Admin({ brokers: [] })).toThrow('no broker URL');
  });
});
