// Entry point: load and check configuration, start the controller, stop gracefully.
import { pino } from 'pino';

import { logRedaction } from './calls/privacy.js';
import { loadConfig } from './config/index.js';
import { isRexianError } from './errors/index.js';
import { LogEvent } from './events/log-events.js';
import { createRexian } from './server.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (isRexianError(err)) {
      process.stderr.write(`rexian: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = pino({ level: config.log.level, base: { service: 'rexian' }, redact: logRedaction });
  const rexian = await createRexian(config, logger);
  const address = await rexian.start();
  logger.info({ event: LogEvent.controllerListening, address, role: rexian.role }, 'rexian controller listening');
  // Lost the ARI lease (src/ha/ari-lease.ts): ARI is stopped; exit before anything else reaches
  // Asterisk. Status 3 says why; the service manager starts it again, and it stands by.
  void rexian.fenced.then((reason) => {
    logger.fatal({ reason, exitCode: 3 }, 'exiting: this controller no longer holds the ARI lease');
    process.exit(3);
  });

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping; live calls stay in Asterisk');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    rexian.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`rexian: failed to start: ${isRexianError(err) ? err.message : (err as Error).stack}\n`);
  process.exit(1);
});
