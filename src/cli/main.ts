#!/usr/bin/env node
import { Command } from 'commander';
import { BROKER_SETTINGS } from '../config/broker-config.js';
import { brokerCommand } from './broker-command.js';
import { clusterCommand } from './cluster-command.js';
import { consumeCommand } from './consume-command.js';
import { devClusterCommand } from './dev-cluster-command.js';
import { produceCommand } from './produce-command.js';
import { topicCommand } from './topic-command.js';
import { dumpLog } from './dump-log.js';

// `sluice dump-log dir | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

const program = new Command('sluice').description('Sluice: a durable, replicated message log broker');

program.addCommand(brokerCommand());
program.addCommand(topicCommand());
program.addCommand(produceCommand());
program.addCommand(consumeCommand());
program.addCommand(clusterCommand());
program.addCommand(devClusterCommand());

program.command('dump-log')
  .description('print every batch of a partition directory, checking CRC-32C and offsets')
  .argument('<partition-dir>', 'a <topic>-<partition> directory inside a data directory')
  .option('--json', 'one JSON object per batch')
  .option('--verify', 'exit 1 on any invalid batch or offset gap')
  .option('--records', 'also print each record')
  .option('--batch-bytes-max <bytes>', 'largest batch size to believe', String(BROKER_SETTINGS.batchBytesMax.default))
  .action(async (partitionDir: string, flags: { json?: true; verify?: true; records?: true; batchBytesMax: string }) => {
    const print = (line: string): void => { process.stdout.write(`${line}\n`); };
    const options = { json: flags.json === true, verify: flags.verify === true, records: flags.records === true, batchBytesMax: Number(flags.batchBytesMax) };
    process.exitCode = await dumpLog(partitionDir, options, print);
  });

await program.parseAsync(process.argv);
