/**
 * The package root: what a program that uses Sluice imports. The RecordBatch v2 codec, the error
 * table and the client library (Producer, Consumer, Admin), all browser-safe. The Node transport
 * (`nodeWebSocket`, which imports `ws`) is not exported here, so that a browser bundle of the
 * root never reaches Node code; Node programs import it from `sluice/node` (src/client/node.ts).
 */
export * from './record/index.js';
export * from './errors/index.js';
export * from './client/index.js';
