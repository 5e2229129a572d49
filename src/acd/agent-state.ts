// An agent's state, on its own so the event catalogue (and through it the web pages) can
// name it without importing the ACD's services.
export type AgentState = 'logged-out' | 'ready' | 'not-ready' | 'reserved' | 'on-call' | 'wrap-up';
