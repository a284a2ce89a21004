import { writeFile } from 'node:fs/promises';

/** Linux's knob: writing 3 drops clean page-cache pages, dentries and inodes (root only). */
const DROP_CACHES_PATH = '/proc/sys/vm/drop_caches';

/** What an attempt to drop the page cache did; `reason` says why it did not. */
export type DropOutcome = { readonly dropped: true } | { readonly dropped: false; readonly reason: string };

/**
 * Drops the kernel's page cache so that the next reads go to the disk. Only clean pages go: the
 * broker fsyncs what it writes, so its segments are clean once acknowledged.
 */
export async function dropPageCache(): Promise<DropOutcome> {
  try {
    await writeFile(DROP_CACHES_PATH, '3\n');
    return { dropped: true };
  } catch (error) {
    return { dropped: false, reason: `${DROP_CACHES_PATH}: ${(error as NodeJS.ErrnoException).code ?? String(error)}` };
  }
}
