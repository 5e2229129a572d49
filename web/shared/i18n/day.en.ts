// Page strings (English): the agent's day, the waiting figures of the agent's queues, the
// microphone and speaker choice, two tabs, ringing and auto-answer. Merged into the en
// messages by ./index.ts.
export default {
  day: {
    heading: 'My day',
    callsTaken: 'Calls taken',
    averageTalk: 'Average talk',
    satisfaction: 'Satisfaction',
    satisfactionCount: '{count} answers',
    noSurvey: 'No survey answers yet',
    seconds: '{n} s',
    minutes: '{m} min {s} s',
    none: '—',
    empty: 'No calls answered today yet.',
    loading: 'Loading your day…',
    failed: 'Your day cannot be loaded now ({error}); retrying shortly.',
    updatedAt: 'Updated {time}',
    table: "Today's calls",
    columns: { time: 'Time', line: 'Line', caller: 'Caller', outcome: 'Outcome', talk: 'Talk', survey: 'Survey' },
    masked: '{caller} (hidden)',
    outcomes: {
      emergency: 'Handed to an emergency line',
      window: 'Window brought in',
      transferred: 'Transferred',
      'agent-hung-up': 'You hung up',
      'citizen-hung-up': 'Citizen hung up',
      ended: 'Ended',
    },
    surveys: { satisfied: 'Satisfied', 'basically-satisfied': 'Basically satisfied', dissatisfied: 'Dissatisfied' },
  },
  queues: {
    heading: 'Callers waiting in my queues',
    queue: 'Queue',
    waiting: 'Waiting',
    longestWait: 'Longest wait',
    none: 'No queue is served by your skills.',
    failed: 'Waiting figures cannot be loaded now ({error}).',
  },
  devices: {
    microphone: 'Microphone',
    speaker: 'Speaker',
    default: 'System default',
    microphoneVanished: 'The microphone you chose ("{name}") is gone; using the system default.',
    speakerVanished: 'The speaker you chose ("{name}") is gone; using the system default.',
    failed: '"{name}" cannot be used (busy or not allowed); using the system default.',
    speakerNotSupported: 'This browser cannot choose a speaker; the system default plays.',
  },
  tabs: {
    elsewhere:
      'The phone is in use in another tab of yours; this one will not ring. State and call controls work here too.',
    takeBack: 'Use the phone in this tab',
  },
  ring: {
    autoAnswerOn: 'Auto-answer: on (answers after a beep)',
    autoAnswering: 'Auto-answering: {caller}',
  },
};
