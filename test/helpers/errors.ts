import { SluiceError } from '../../src/errors/sluice-error.js';

/** The SluiceError name `run` throws, or undefined; any other exception fails the test as it is. */
export function errorNameOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    if (error instanceof SluiceError) return error.errorName;
    throw error;
  }
}
