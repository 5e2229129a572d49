// Asterisk restarts under a running controller: /readyz reports it, then recovers on its
// own; calls Asterisk lost in the crash are closed out, not left hanging in our state.
import t from 'tap';

import { LogEvent } from '../../src/events/log-events.js';
import { ControllerProcess } from '../helpers/controller.js';
import { type Lab, sleep, startLab, until } from '../helpers/lab.js';
import { dialCitizen } from '../helpers/sipp.js';

let lab: Lab;
let controller: ControllerProcess;

t.before(async () => {
  lab = await startLab('restart', 4);
  controller = new ControllerProcess(lab.env, lab.ports.controller).start();
  await controller.waitReady();
});

t.teardown(async () => {
  await controller?.kill('SIGKILL');
  await lab?.close();
});

t.test(
  'a clean Asterisk restart: /readyz goes 503 naming ARI and AMI, then 200, same controller process',
  async (t) => {
    await lab.asterisk.stop();
    const down = await until('readyz 503', async () => {
      const r = await controller.readyz();
      return r.status === 503 ? r : undefined;
    });
    t.match(String(down.body.reason), /(ari|ami): not connected/, 'the reason names a dead connection');
    // Which of the two notices first is a race; both must be named soon.
    const both = await until(
      'ARI and AMI both named',
      async () => {
        const reason = String((await controller.readyz()).body.reason);
        return /ari: not connected/.test(reason) && /ami: not connected/.test(reason) ? reason : undefined;
      },
      15_000,
    );
    t.match(both, /ari: not connected.*ami: not connected|ami: not connected.*ari: not connected/);

    await lab.asterisk.start();
    await controller.waitReady(30_000);
    t.equal((await controller.readyz()).status, 200);
    t.ok(controller.running, 'the controller was never restarted');
  },
);

t.test('an Asterisk crash with a call in progress: the lost call is closed out at reconnect', async (t) => {
  const citizen = dialCitizen(lab, { scenario: 'citizen-waits-for-bye.xml', caller: '13600136000', timeoutSec: 60 });
  t.teardown(() => citizen.kill());
  const playing = await controller.waitForEvent(LogEvent.promptPlaying);
  t.same(await lab.redis.smembers(`${lab.prefix}:calls:all`), [playing.callId], 'the call is live in Redis');

  process.kill(lab.asterisk.pid()!, 'SIGKILL');
  await sleep(500);
  await lab.asterisk.start();
  t.teardown(() => {
    if (t.passing()) return;
    for (const l of controller.logs.slice(-30)) console.error(JSON.stringify(l).slice(0, 300));
  });
  const closed = await controller.waitForEvent(LogEvent.callClosedOut, (l) => l.callId === playing.callId, 30_000);
  t.equal(closed.reason, 'asterisk-restarted');
  t.same(await lab.redis.smembers(`${lab.prefix}:calls:all`), [], 'no stale call is left in Redis');
  await controller.waitReady(30_000);
});

t.test('a frozen Asterisk (sockets open, nothing answers) is detected by keepalives, then recovered', async (t) => {
  await controller.waitReady(30_000);
  const pid = lab.asterisk.pid()!;
  process.kill(pid, 'SIGSTOP');
  t.teardown(() => {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      /* gone */
    }
  });
  const frozenAt = Date.now();
  const down = await until(
    'readyz 503 while frozen',
    async () => {
      const r = await controller.readyz();
      return r.status === 503 ? r : undefined;
    },
    25_000,
  );
  t.match(String(down.body.reason), /ari|ami/, 'the reason names the dead connection');
  const noticed = await controller
    .waitForEvent(
      [LogEvent.ariPingsUnanswered, LogEvent.amiLost],
      (l) => (l.event === LogEvent.ariPingsUnanswered || l.why === 'ping unanswered') && l.time >= frozenAt,
      5_000,
    )
    .catch(() => null);
  t.ok(noticed, 'a keepalive noticed it');
  process.kill(pid, 'SIGCONT');
  await controller.waitReady(30_000);
  t.ok(controller.running, 'recovered without a controller restart');
});
