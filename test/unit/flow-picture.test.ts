// A flow's picture goes into the ops page's DOM: what Graphviz draws is kept (shapes, text,
// the node and edge titles the page highlights by), anything that could run or load is not.
import t from 'tap';

import { describeFailure } from '../../src/config/reload-status.js';
import { flowPicture, sanitizeSvg } from '../../src/ivr/flow-picture.js';
import { refOf } from '../helpers/flows.js';

t.test('scripts, links, event attributes and foreign content are removed from an SVG', async (t) => {
  const hostile = `<?xml version="1.0"?><!DOCTYPE svg><!-- hi -->
<svg width="10pt" height="10pt" viewBox="0 0 10 10" xmlns="http://www.w3.org/2000/svg" onload="alert(1)">
<script>alert(2)</script><SCRIPT type="x">alert(3)</SCRIPT>
<g id="node1" class="node" onclick="alert(4)"><title>menu</title>
<a xlink:href="javascript:alert(5)"><text x="1" y="2" fill="url(javascript:alert(6))">按1</text></a>
<foreignObject><div>x</div></foreignObject><image href="http://evil/x.png"/>
<polygon fill="none" stroke="black" points="1,2 3,4"/></g></svg>`;
  const clean = sanitizeSvg(hostile);
  t.notMatch(clean, /script|alert|onload|onclick|href|foreignObject|image|DOCTYPE|<\?xml|<!--/i);
  t.match(clean, /<svg width="10pt" height="10pt" viewBox="0 0 10 10" xmlns="http:\/\/www.w3.org\/2000\/svg">/);
  t.match(clean, /<g id="node1" class="node"><title>menu<\/title>/);
  t.match(clean, /<text x="1" y="2">按1<\/text>/, 'text stays; a url() fill goes');
  t.match(clean, /<polygon fill="none" stroke="black" points="1,2 3,4"\/>/);
});

t.test('a flow is drawn by dot with a titled group per node and per edge', async (t) => {
  const ref = refOf(`id: pic
name: 测试
numbers: ["12345"]
start: menu
nodes:
  menu: { type: menu, prompt: menu, options: { "1": general }, noInput: { next: general }, invalid: { next: general } }
  general: { type: queue, queue: general }
`);
  const svg = await flowPicture(ref.flow, ref.version);
  t.match(svg, /^<svg /);
  t.match(svg, /<g id="node\d+" class="node">\s*<title>menu<\/title>/);
  t.match(svg, /<g id="edge\d+" class="edge">\s*<title>menu&#45;&gt;general<\/title>/);
  t.equal(await flowPicture(ref.flow, ref.version), svg, 'a version is drawn once');
});

t.test("a refused config reload's problems are read back as file:line:col", async (t) => {
  const err = Object.assign(new Error('REXIAN_QUEUES_INVALID: …'), {
    code: 'REXIAN_QUEUES_INVALID',
    details: {
      file: '/etc/rexian/queues.yaml',
      problems: ['/etc/rexian/queues.yaml:12:5: unknown key "queues.general.sla"'],
    },
  });
  t.same(describeFailure(err), {
    code: 'REXIAN_QUEUES_INVALID',
    problems: [{ file: '/etc/rexian/queues.yaml', line: 12, col: 5, message: 'unknown key "queues.general.sla"' }],
  });
  t.same(describeFailure(new Error('Redis is down')), {
    code: null,
    problems: [{ file: null, line: null, col: null, message: 'Redis is down' }],
  });
});
