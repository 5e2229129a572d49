// What GET /api/flows says of each flow file: the registry's knowledge in the shape of the
// wire (flow-api-types.ts). Paths become base names, since ops know the files by name and the
// controller's directory layout is nobody's business outside it.
import { basename } from 'node:path';

import type { FlowFileState, FlowFileView, FlowIssueView, FlowListView } from './flow-api-types.js';
import { type FlowIssue, formatIssue } from './loader.js';
import type { FlowFileDetails, FlowRegistry } from './registry.js';

export function issueView(issue: FlowIssue): FlowIssueView {
  return {
    code: issue.code,
    message: issue.message,
    file: basename(issue.file),
    line: issue.line,
    col: issue.col,
    node: issue.node ?? null,
    severity: issue.severity,
  };
}

export function fileView(details: FlowFileDetails): FlowFileView {
  const good = details.serving;
  const state: FlowFileState = details.errors.length === 0 && good ? 'serving' : good ? 'last-good' : 'rejected';
  return {
    file: basename(details.file),
    flowId: good?.flow.id ?? null,
    name: good?.flow.name ?? null,
    version: good?.version ?? null,
    numbers: [...(good?.flow.numbers ?? [])],
    loadedAt: details.loadedAt ?? null,
    state,
    diskVersion: details.diskVersion ?? null,
    history: details.history,
    errors: details.errors.map(formatIssue),
    issues: [...details.errors, ...details.warnings].map(issueView),
  };
}

export function flowList(registry: FlowRegistry): FlowListView {
  return {
    checkedAt: registry.lastReload ?? null,
    calendarError: registry.calendarProblem ?? null,
    flows: registry.fileDetails().map(fileView),
  };
}
