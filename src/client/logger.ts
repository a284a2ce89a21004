/**
 * What the client logs through. The shape is pino's (`logger.warn({ topic }, 'message')`), so a
 * pino logger, or a child of one carrying context, can be passed as it is; in a browser, any
 * object with these four methods will do. The default logs nothing: a library does not write to
 * the console on its own.
 */
export interface ClientLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

const ignore = (): void => {};

/** Logs nothing. */
export const silentLogger: ClientLogger = Object.freeze({ debug: ignore, info: ignore, warn: ignore, error: ignore });
