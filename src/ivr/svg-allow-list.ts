// The few SVG elements and attributes Graphviz dot draws a flow's picture with: shapes, text,
// groups and their titles. The only list: the server keeps these when it cleans dot's output
// (./flow-picture.ts) and the ops page keeps these again when it copies the picture into its
// document (web/ops/svg-picture.ts). No script, link, style, foreignObject or event attribute
// is on it. Pure data: the page bundles this file.
export const SVG_NAMESPACE = 'http://www.w3.org/2000/svg';

export const SVG_ELEMENTS: ReadonlySet<string> = new Set([
  'svg',
  'g',
  'title',
  'polygon',
  'polyline',
  'path',
  'ellipse',
  'circle',
  'rect',
  'line',
  'text',
]);

/** As SVG spells them (viewBox); `xmlns` only on the server's text, where it names SVG_NAMESPACE. */
export const SVG_ATTRIBUTES: ReadonlySet<string> = new Set([
  'id',
  'class',
  'width',
  'height',
  'viewBox',
  'xmlns',
  'transform',
  'points',
  'd',
  'cx',
  'cy',
  'rx',
  'ry',
  'r',
  'x',
  'y',
  'x1',
  'y1',
  'x2',
  'y2',
  'fill',
  'stroke',
  'stroke-width',
  'stroke-dasharray',
  'font-family',
  'font-size',
  'font-weight',
  'font-style',
  'text-anchor',
]);
