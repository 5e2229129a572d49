// The directory of service-centre windows (sip-config/windows.yaml): the desks an agent can
// bring into a call for a three-way (一号答), such as 市政务服务中心 不动产登记窗口. A window is
// reached by a number on the public trunk or by a SIP endpoint of its own.
import { checkDestination } from '../calls/dial-string.js';
import { readCheckedYaml, type YamlProblem } from '../config/yaml-file.js';
import { RexianError } from '../errors/index.js';

export interface ServiceWindow {
  id: string;
  name: string;
  /** The service centre it belongs to (市政务服务中心, 区政务服务中心 …). */
  centre?: string;
  /** Dialled on the public trunk, checked like any number we call. */
  number?: string;
  /** A PJSIP endpoint (the window's own desk phone), dialled directly. */
  endpoint?: string;
}

export interface WindowDirectory {
  windows: Map<string, ServiceWindow>;
}

const windowsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['windows'],
  properties: {
    windows: {
      type: 'object',
      propertyNames: { pattern: '^[a-z0-9-]{1,40}$' },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: { type: 'string', minLength: 1 },
          centre: { type: 'string', minLength: 1 },
          number: { type: 'string', minLength: 3, maxLength: 20 },
          endpoint: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
        },
      },
    },
  },
} as const;

interface WindowsFile {
  windows: Record<string, Omit<ServiceWindow, 'id'>>;
}

export function parseWindows(file: string, text?: string): WindowDirectory {
  const check = (
    data: WindowsFile,
    locate: (p: Array<string | number>) => { line: number; col: number },
  ): YamlProblem[] => {
    const problems: YamlProblem[] = [];
    for (const [id, w] of Object.entries(data.windows ?? {})) {
      if ((w.number === undefined) === (w.endpoint === undefined)) {
        problems.push({
          message: `window "${id}" needs exactly one of number and endpoint`,
          ...locate(['windows', id]),
        });
      } else if (w.number !== undefined) {
        try {
          checkDestination('external', w.number, `windows.${id}.number`);
        } catch (err) {
          problems.push({ message: (err as Error).message, ...locate(['windows', id, 'number']) });
        }
      }
    }
    return problems;
  };
  const { data } = readCheckedYaml<WindowsFile>(file, windowsSchema, 'REXIAN_WINDOWS_INVALID', check, text);
  return { windows: new Map(Object.entries(data.windows ?? {}).map(([id, w]) => [id, { id, ...w }])) };
}

/** The dial string of a window: its own endpoint, or its number on the public trunk. */
export function windowEndpoint(w: ServiceWindow, pstnEndpoint: string): string {
  if (w.endpoint) return `PJSIP/${w.endpoint}`;
  return `PJSIP/${checkDestination('external', w.number!, `windows.${w.id}.number`).number}@${pstnEndpoint}`;
}

export function findWindow(directory: WindowDirectory, id: string): ServiceWindow {
  const w = directory.windows.get(id);
  if (!w) {
    throw new RexianError('REXIAN_UNKNOWN_WINDOW', { window: id }, [...directory.windows.keys()].join(', ') || 'none');
  }
  return w;
}
