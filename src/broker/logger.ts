import { pino, type Logger } from 'pino';

/** The broker's root logger: structured JSON on stdout, broker id on every line. */
export function createBrokerLogger(level: string, brokerId: number): Logger {
  return pino({ level, base: { brokerId } });
}
