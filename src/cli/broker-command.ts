import { Command, Option } from 'commander';
import { Broker } from '../broker/broker.js';
import { createBrokerLogger } from '../broker/logger.js';
import { BROKER_SETTINGS, ConfigError, envName, loadBrokerConfig, type SettingName } from '../config/broker-config.js';

/** `sluice broker`: one flag per setting of the config table, plus --config for a JSON file. */
export function brokerCommand(): Command {
  const command = new Command('broker').description('run a broker (standalone; data in --data-dir)');
  command.option('--config <file>', 'JSON file of settings');
  for (const [name, setting] of Object.entries(BROKER_SETTINGS)) {
    const flag = `--${name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)} <value>`;
    command.addOption(new Option(flag, `${setting.doc} [env ${envName(name as SettingName)}, default ${String(setting.default)}]`));
  }
  command.action(async (flags: Record<string, unknown>) => runBroker(flags));
  return command;
}

async function runBroker(flags: Record<string, unknown>): Promise<void> {
  let config;
  try {
    const { config: file, ...settings } = flags;
    config = loadBrokerConfig({ file: file as string | undefined, env: process.env, flags: settings });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`sluice broker: invalid configuration: ${error.message}\n`);
    process.exit(2);
  }
  const logger = createBrokerLogger(config.logLevel, config.brokerId);
  // A failed fsync leaves data in an unknown state: stop at once, never retry (see docs/storage.md).
  const onFatal = (error: Error): void => {
    logger.fatal({ err: error }, 'disk write or fsync failed; stopping the broker');
    process.exit(1);
  };
  // Handlers go in before the logs are opened: a signal during recovery must still end in a
  // clean stop (checkpoints written), as soon as there is a broker to stop.
  let state: { kind: 'starting'; stopSignal: string | null } | { kind: 'running'; broker: Broker } | { kind: 'stopping' } =
    { kind: 'starting', stopSignal: null };
  const stop = (signal: string): void => {
    if (state.kind === 'starting') {
      state.stopSignal ??= signal;
      return;
    }
    if (state.kind === 'stopping') return;
    const { broker } = state;
    state = { kind: 'stopping' };
    logger.info({ signal }, 'shutting down');
    broker.stop().then(() => process.exit(0), (error: unknown) => {
      logger.error({ err: error }, 'unclean shutdown');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  let broker: Broker;
  try {
    broker = await Broker.start(config, logger, onFatal);
  } catch (error) {
    logger.fatal({ err: error }, 'broker could not start');
    process.stderr.write(`sluice broker: cannot start: ${(error as Error).message}\n`);
    process.exit(1);
  }
  const stopSignal = state.kind === 'starting' ? state.stopSignal : null;
  state = { kind: 'running', broker };
  if (stopSignal !== null) stop(stopSignal);
}
