// What the flow linter (lint.ts) reads in texts: the prompts of a node, the keys a prompt
// announces, patterns that are invalid or could backtrack for ever, and "did you mean".
import type { FlowNode, PromptRef } from './flow-schema.js';

/** Every prompt of a node, with its path in the file (for file:line:col). */
export function promptsOf(node: FlowNode): Array<{ prompt: PromptRef; path: Array<string | number> }> {
  const out: Array<{ prompt: PromptRef; path: Array<string | number> }> = [];
  const add = (p: PromptRef | PromptRef[] | undefined, ...path: Array<string | number>): void => {
    if (p === undefined) return;
    if (Array.isArray(p)) p.forEach((one, i) => out.push({ prompt: one, path: [...path, i] }));
    else out.push({ prompt: p, path });
  };
  if ('prompt' in node) add(node.prompt, 'prompt');
  if (node.type === 'menu' || node.type === 'collect') {
    add(node.noInput.prompt, 'noInput', 'prompt');
    add(node.invalid.prompt, 'invalid', 'prompt');
  }
  if (node.type === 'survey') add(node.thanks, 'thanks');
  return out;
}

/** Keys a Chinese or English prompt text tells the caller to press: "请按1", "按 0", "press 2". */
export function announcedKeys(prompt: PromptRef | PromptRef[]): string[] {
  const texts = (Array.isArray(prompt) ? prompt : [prompt]).flatMap((p) => (typeof p === 'string' ? [] : [p.text]));
  const keys = new Set<string>();
  for (const text of texts) {
    for (const m of text.matchAll(/(?:按|press\s*)\s*([0-9*#])/gi)) keys.add(m[1]!);
    for (const m of text.matchAll(/按\s*(星号|井号)/g)) keys.add(m[1] === '星号' ? '*' : '#');
  }
  return [...keys];
}

export const SLOW_PATTERN =
  'repeats a group that itself repeats, like (\\d+)+: on a long caller number or a lookup answer its matching can take exponential time and stall every call; write it without the nested repetition';

/**
 * Whether a pattern repeats a group that holds a repetition ("(a+)+", "(\\d*x?)*", "(?:a{2,})+"),
 * the shape behind catastrophic backtracking: JavaScript has no match timeout, and one slow match
 * blocks the event loop that carries every call. A heuristic, on the side of refusing: rewriting
 * such a pattern without the nesting is always possible for what a flow matches (digits, prefixes).
 */
export function nestedRepetition(pattern: string): boolean {
  const groups: boolean[] = []; // for each open group: does it hold a repetition so far?
  let lastGroupRepeats = false; // the group that just closed held a repetition
  let afterGroup = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    const repeat =
      c === '*' ||
      c === '+' ||
      (c === '{' && /^\{\d*,?\d*\}/.test(pattern.slice(i)) && !/^\{(\d+)\}|^\{[01]?,1\}/.test(pattern.slice(i)));
    if (repeat) {
      if (afterGroup && lastGroupRepeats) return true;
      if (groups.length > 0) groups[groups.length - 1] = true;
      afterGroup = false;
      if (c === '{') i = pattern.indexOf('}', i);
      continue;
    }
    afterGroup = false;
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '[') {
      // A character class is one atom: skip to its end (a ] first in the class is literal).
      let j = i + 1;
      if (pattern[j] === '^') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1;
      i = j;
      continue;
    }
    if (c === '(') groups.push(false);
    else if (c === ')') {
      lastGroupRepeats = groups.pop() ?? false;
      if (lastGroupRepeats && groups.length > 0) groups[groups.length - 1] = true;
      afterGroup = true;
    }
  }
  return false;
}

export function validRegex(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

/** How many "did you mean" searches one flow may make: each one compares against every name. */
const MAX_SUGGESTIONS = 20;

/**
 * "did you mean" over a set of names. Bounded on both sides: names whose length differs by the
 * distance or more are skipped, the distance stops as soon as it cannot win, and a flow full of
 * dangling targets gets suggestions for its first few only (it needs more than a typo fixed).
 */
export function suggester(candidates: string[]): (name: string) => string {
  let left = MAX_SUGGESTIONS;
  return (name) => {
    if (left <= 0) return '';
    left -= 1;
    return suggest(name, candidates);
  };
}

export function suggest(name: string, candidates: string[]): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    if (Math.abs(c.length - name.length) >= bestDistance) continue;
    const d = distance(name, c, bestDistance);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best ? ` (did you mean "${best}"?)` : '';
}

/** Levenshtein distance, or `limit` as soon as the answer is known to be at least that. */
function distance(a: string, b: string, limit = Infinity): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    let rowMin = row[0];
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
      if (row[j]! < rowMin) rowMin = row[j]!;
    }
    if (rowMin >= limit) return limit;
  }
  return row[b.length]!;
}
