// The browser phone's WebSocket address, derived from Asterisk's HTTP server (ari.url): the
// same host and port, ws:// or wss:// to match, path /ws, whatever path ARI's URL carried.
import t from 'tap';

import { webSocketUrl } from '../../src/people/phone.js';

t.test('a plain http ARI URL gives ws://host:port/ws', async (t) => {
  t.equal(webSocketUrl('http://127.0.0.1:8088'), 'ws://127.0.0.1:8088/ws');
});

t.test('an https ARI URL gives wss://, and a path on it is replaced by /ws', async (t) => {
  t.equal(webSocketUrl('https://pbx.example.gov.cn:8089/ari'), 'wss://pbx.example.gov.cn:8089/ws');
});
