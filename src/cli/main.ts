// The `rexian` command line.
import { isRexianError } from '../errors/index.js';
import { asteriskCommand } from './asterisk.js';

const usage = `usage: rexian <command>
  asterisk up|down|status [--name NAME]   the local Asterisk instance in its chroot`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'asterisk':
      return asteriskCommand(rest);
    case undefined:
    case '-h':
    case '--help':
      console.log(usage);
      return command === undefined ? 2 : 0;
    default:
      console.error(`rexian: unknown command "${command}"\n${usage}`);
      return 2;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err: unknown) => {
  console.error(`rexian: ${isRexianError(err) ? err.message : (err as Error).stack}`);
  process.exit(1);
});
