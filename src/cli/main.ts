// The `rexian` command line.
import { isRexianError } from '../errors/index.js';
import { agentCommand, asteriskCommand } from './asterisk.js';
import { edgeCommand } from './edge.js';
import { flowCommand } from './flow.js';
import { personCommand } from './person.js';

const usage = `usage: rexian <command>
  asterisk up|down|status [--name NAME]   the local Asterisk instance in its chroot
  edge up|down|status|render [--name NAME]
                                          the local SIP edge (Kamailio) in front of the Asterisk nodes
  agent password ID                       a roster agent's SIP password (derived from REXIAN_AGENT_SIP_SECRET)
  person add NAME --role ROLE [--agent ID] [--teams a,b] [--display-name TEXT] [--password P]
                                          create or update a person's sign-in (prints a generated password)
  flow lint [paths…]                      check flow files (schema and graph); exit 1 on errors
  flow simulate FILE --did N --dtmf KEYS [--at ISO] [--caller N] [--json] [--offline]
  flow graph FILE -o OUT.svg              draw a flow (Graphviz)
  flow schema [-o FILE]                   the flow JSON Schema`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'asterisk':
      return asteriskCommand(rest);
    case 'edge':
      return edgeCommand(rest);
    case 'flow':
      return flowCommand(rest);
    case 'agent':
      return agentCommand(rest);
    case 'person':
      return personCommand(rest);
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

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`rexian: ${isRexianError(err) ? err.message : (err as Error).stack}`);
    process.exit(1);
  },
);
