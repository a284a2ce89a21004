import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/** fsyncs a directory, so that a create, rename or unlink inside it survives a crash. */
export async function fsyncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `path` with `contents` so that a crash leaves either the old file or the new one,
 * never a mix: write a temp file, fsync it, rename it over, fsync the directory.
 */
export async function writeFileAtomically(path: string, contents: Uint8Array | string): Promise<void> {
  const tempPath = `${path}.tmp`;
  const handle = await open(tempPath, 'w');
  try {
    await handle.writeFile(contents);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tempPath, path);
  await fsyncDirectory(dirname(path));
}

/** Removes a file that may already be gone. */
export async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
