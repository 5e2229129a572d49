// Page text in English. Same keys as zh-CN.ts (the type below makes a missing key an error).
import type zhCN from './zh-CN';

const en: typeof zhCN = {
  app: { name: 'rexian 12345 hotline' },
  language: { switchTo: '中文', label: 'Switch language' },
  pages: {
    agent: {
      title: 'Agent desk',
      placeholder: 'The agent desk comes here next: the softphone, the screen pop, call controls and your day.',
    },
    supervisor: {
      title: 'Supervisor wallboard',
      placeholder:
        "The wallboard comes here next: live queue figures, service level, agents' states and call monitoring.",
    },
    ops: {
      title: 'Ops console',
      placeholder:
        'The ops console comes here next: flow status, checks before saving, queues and roster, reports and recordings.',
    },
  },
  signIn: {
    heading: 'Sign in',
    name: 'Agent id or name',
    namePlaceholder: 'Agents: your agent id',
    password: 'Password',
    submit: 'Sign in',
    submitting: 'Signing in…',
    loading: 'Loading…',
  },
  header: {
    signedInAs: 'Signed in as',
    role: 'Role',
    signOut: 'Sign out',
  },
  roles: { agent: 'Agent', supervisor: 'Supervisor', ops: 'Ops', admin: 'Admin' },
  notAllowed: {
    heading: 'Not allowed',
    text: 'Your role ({role}) may not use the {page}.',
    goTo: 'Go to the {page}',
  },
  phone: {
    heading: 'Softphone',
    registered: 'Phone: registered',
    reconnecting: 'Phone: network lost, registering again',
    unregistered: 'Phone: not registered ({reason})',
    reasons: {
      connecting: 'connecting',
      socket: 'cannot reach the phone server',
      auth: 'the phone account or password was refused',
      refused: 'the phone server refused the registration',
      microphone: 'no microphone: allow the browser to use it',
      stopped: 'stopped',
      credentials: 'could not get the phone account',
    },
    deskPhone: 'This seat uses a desk phone or headset; the page is a control panel.',
    idle: 'Idle, waiting for a call',
    ringing: 'Incoming call: {caller}',
    connecting: 'Connecting: {caller}',
    talking: 'On a call: {caller}',
    answer: 'Answer',
    hangUp: 'Hang up',
    mute: 'Mute',
    unmute: 'Unmute',
    dtmf: 'Dial pad',
    dtmfKey: 'Key {key}',
    micLevel: 'Microphone level',
    remoteAudio: 'Caller audio',
  },
  stream: {
    connecting: 'Live updates: connecting',
    live: 'Live updates: on',
    reconnecting: 'Live updates: reconnecting',
    closed: 'Live updates: off',
  },
  errors: {
    REXIAN_SIGN_IN_FAILED: 'The agent id, name or password is wrong.',
    REXIAN_SIGN_IN_LOCKED: 'Too many failed sign-ins. Try again in {minutes} min.',
    REXIAN_SESSION_EXPIRED: 'Your session has expired. Please sign in again.',
    REXIAN_UNAUTHORIZED: 'You have been signed out. Please sign in again.',
    REXIAN_FORBIDDEN: 'Your role may not do this.',
    REXIAN_BAD_REQUEST: 'Enter your agent id or name and your password.',
    NETWORK: 'Cannot reach the server. Check the network.',
    unknown: 'That did not work ({code}).',
  },
};

export default en;
