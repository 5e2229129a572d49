// A flow's picture in the page: the SVG text is parsed as XML (DOMParser runs nothing) and
// copied element by element through the server's own allow-list (src/ivr/svg-allow-list.ts)
// into the document, so nothing in it can run even if the server's cleaning
// (src/ivr/flow-picture.ts) had missed something. Then the
// nodes and edges a simulated call passed are marked, found by the titles dot gives them
// (a node's title is its id, an edge's is "from->to").
import { SVG_ATTRIBUTES, SVG_ELEMENTS, SVG_NAMESPACE } from '../../src/ivr/svg-allow-list';

function copy(source: Element, into: Document): Element | undefined {
  if (!SVG_ELEMENTS.has(source.localName) || source.namespaceURI !== SVG_NAMESPACE) return undefined;
  const element = into.createElementNS(SVG_NAMESPACE, source.localName);
  for (const attribute of Array.from(source.attributes)) {
    // xmlns is a namespace declaration here, not an attribute: createElementNS gave the namespace.
    if (attribute.name === 'xmlns') continue;
    if (SVG_ATTRIBUTES.has(attribute.name) && !/url\s*\(|script:/i.test(attribute.value))
      element.setAttribute(attribute.name, attribute.value);
  }
  for (const child of Array.from(source.childNodes)) {
    if (child.nodeType === Node.TEXT_NODE) element.appendChild(into.createTextNode(child.textContent ?? ''));
    else if (child.nodeType === Node.ELEMENT_NODE) {
      const copied = copy(child as Element, into);
      if (copied) element.appendChild(copied);
    }
  }
  return element;
}

/** The picture as an element of this document, or undefined when the text is no SVG. */
export function pictureElement(svgText: string): SVGSVGElement | undefined {
  const parsed = new DOMParser().parseFromString(svgText, 'image/svg+xml');
  const root = parsed.documentElement;
  if (root.localName !== 'svg' || parsed.getElementsByTagName('parsererror').length > 0) return undefined;
  const svg = copy(root, document) as SVGSVGElement | undefined;
  if (!svg) return undefined;
  // Drawn to fit its box; dot's own size in points stays as the natural size (viewBox).
  svg.removeAttribute('width');
  svg.removeAttribute('height');
  return svg;
}

/** The node ids and "from->to" edges of a path, top level only (subflow steps read "flow/node"). */
export function pathMarks(path: string[], start?: string): { nodes: Set<string>; edges: Set<string> } {
  const top = path.filter((step) => !step.includes('/'));
  const nodes = new Set(top);
  const edges = new Set<string>();
  for (let i = 1; i < top.length; i++) if (top[i - 1] !== top[i]) edges.add(`${top[i - 1]}->${top[i]}`);
  const first = top[0] ?? start;
  if (first && top.length > 0) {
    nodes.add('__start');
    edges.add(`__start->${first}`);
  }
  return { nodes, edges };
}

/** Marks the groups of the path (class on-path, and the step's number for the nodes); returns how many nodes. */
export function markPath(svg: SVGSVGElement, path: string[]): number {
  const { nodes, edges } = pathMarks(path);
  let marked = 0;
  for (const group of Array.from(svg.querySelectorAll('g.node, g.edge'))) {
    const title = group.querySelector('title')?.textContent?.trim() ?? '';
    const on = group.classList.contains('node') ? nodes.has(title) : edges.has(title);
    group.classList.toggle('on-path', on);
    if (on && group.classList.contains('node') && title !== '__start') marked++;
  }
  return marked;
}
