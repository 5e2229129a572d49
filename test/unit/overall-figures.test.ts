// The wallboard's whole-hotline line: counts add up over queues, service level per threshold
// over the queues that target it, each agent once.
import t from 'tap';

import { overallFigures, type QueueFigures } from '../../src/acd/figures.js';

const q = (p: Partial<QueueFigures> & { sl: Array<[number, number]> }): QueueFigures => ({
  queue: 'q',
  name: 'q',
  date: '2026-11-22',
  offered: 0,
  answered: 0,
  abandoned: 0,
  shortAbandoned: 0,
  leftQueue: 0,
  overflowedOut: 0,
  callbacksRequested: 0,
  formula: '',
  averageSpeedOfAnswerSeconds: null,
  longestAnsweredWaitSeconds: 0,
  waitingNow: 0,
  longestWaitNowSeconds: 0,
  averageHandleTimeSeconds: null,
  agents: {},
  arrivalRatePerHour: 0,
  erlangC: { agentsNeeded: 0, predictedServiceLevelPercent: null, loggedIn: 0, handleTimeSeconds: 0 },
  serviceLevel: p.sl.map(([seconds, answeredWithin]) => ({
    seconds,
    targetPercent: 90,
    answeredWithin,
    percent: null,
    answeredOnlyPercent: null,
  })),
  ...p,
});

t.test('sums, and service level weighted by calls, not averaged over queues', async (t) => {
  const overall = overallFigures(
    [
      q({
        offered: 100,
        answered: 90,
        abandoned: 10,
        shortAbandoned: 2,
        waitingNow: 3,
        longestWaitNowSeconds: 12,
        sl: [
          [10, 80],
          [15, 85],
        ],
      }),
      q({
        offered: 10,
        answered: 5,
        abandoned: 5,
        shortAbandoned: 0,
        waitingNow: 1,
        longestWaitNowSeconds: 40,
        sl: [
          [10, 1],
          [20, 5],
        ],
      }),
    ],
    { ready: 3, 'on-call': 4 },
  );
  t.match(overall, {
    offered: 110,
    answered: 95,
    abandoned: 15,
    shortAbandoned: 2,
    waitingNow: 4,
    longestWaitNowSeconds: 40,
    agents: { ready: 3, 'on-call': 4 },
  });
  t.same(overall.serviceLevel, [
    { seconds: 10, answeredWithin: 81, percent: 75 }, // 81 ÷ (98 + 10)
    { seconds: 15, answeredWithin: 85, percent: 86.73 }, // only the first queue targets 15 s: 85 ÷ 98
    { seconds: 20, answeredWithin: 5, percent: 50 }, // only the second: 5 ÷ 10
  ]);
  t.same(overallFigures([], {}).serviceLevel, [], 'no queues, no thresholds');
});
