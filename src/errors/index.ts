export { ERROR_CODES, errorNameOf, type ErrorCodeEntry, type ErrorName } from './error-codes.js';
export { SluiceError, isSluiceError } from './sluice-error.js';
export { assert } from './assert.js';
