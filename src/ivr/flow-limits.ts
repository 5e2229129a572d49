// The size limits of a flow file, checked before anything expensive (parsing for the byte size,
// the lint's graph passes for the rest), so that a pathological file is refused in milliseconds
// with an error naming the limit, instead of stalling or crashing the controller that loads it.
//
// Why these numbers: the shipped 12345 flow has 17 nodes in 2.6 KB; a large city that folds
// every legacy line and every district menu into one file reaches a few hundred nodes (about
// 150 bytes each). The limits sit five to ten times above that, and far below the files that
// hurt: tens of thousands of nodes, alias bombs, nesting that overflows a recursive parser.

export interface FlowLimits {
  /** Bytes of one flow file. Checked before reading it whole and before parsing. */
  maxFileBytes: number;
  /** Nodes in one flow. */
  maxNodes: number;
  /** Levels of YAML nesting (maps and lists). A real flow uses about 8. */
  maxDepth: number;
  /** YAML values once &anchors and *aliases are expanded (an alias bomb expands exponentially). */
  maxValues: number;
  /** *alias references in one file. */
  maxAliases: number;
  /** Subflow calls nested inside each other (a call's stack of flows it will return to). */
  maxSubflowDepth: number;
  /** Issues reported per file: past this, one line says how many more there are. */
  maxIssuesPerFile: number;
}

export const FLOW_LIMITS: Readonly<FlowLimits> = Object.freeze({
  maxFileBytes: 512 * 1024,
  maxNodes: 2000,
  maxDepth: 32,
  maxValues: 200_000,
  maxAliases: 1000,
  maxSubflowDepth: 8,
  maxIssuesPerFile: 100,
});

/** "512 KiB", "1.9 MB": a size as ops read it. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KiB`;
  return `${bytes} bytes`;
}
