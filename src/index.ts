/**
 * The package root: what a program that uses Sluice imports. For now the RecordBatch v2 codec
 * and the error table (both browser-safe); the client library joins them with issue 5.
 */
export * from './record/index.js';
export * from './errors/index.js';
