// How the API checks what a client sends, and how a refusal reads. fastify's default ajv
// options (coerceTypes: 'array', removeAdditional: true) quietly repair bad input: a JSON
// number 1.38e10 or a one-element array ["13800138000"] became the string "13800138000" and
// passed as a phone number, and a forged `id` or `createdBy` was dropped without a word. Both
// hid a broken or hostile client. So a JSON body is taken exactly as sent: no type coercion, no
// removal, and every route's body schema says additionalProperties: false. Query strings and
// path parameters arrive as text by nature, so there strings still become the numbers and
// booleans the schema declares (reports' `date`, `limit`), and unknown keys are refused too.
import { Ajv, type ErrorObject, type Options } from 'ajv';
import type { FastifyInstance } from 'fastify';

const common: Options = { useDefaults: true, allErrors: false, addUsedSchema: false, strict: false };
// allErrors stays false (fastify's advice: all errors of a hostile body is a DoS); the first
// error is the one the message names.
const bodies = new Ajv({ ...common, coerceTypes: false, removeAdditional: false });
const text = new Ajv({ ...common, coerceTypes: true, removeAdditional: false });

export function registerValidation(app: FastifyInstance): void {
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodies : text).compile(schema));
}

/** `/target/0/number` as `.target[0].number`. */
function dotted(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p.replace(/~1/g, '/').replace(/~0/g, '~')}`))
    .join('');
}

/**
 * A validation error as people read it, naming the field: `body.number must be string`,
 * `body has unknown field "createdBy"`, `querystring.date is required`.
 */
export function describeValidation(errors: ErrorObject[], part: string): { message: string; field: string } {
  const e = errors[0];
  if (!e) return { message: `${part} is not valid`, field: part };
  const at = `${part}${dotted(e.instancePath)}`;
  switch (e.keyword) {
    case 'additionalProperties': {
      const name = String((e.params as { additionalProperty: string }).additionalProperty);
      return { message: `${at} has unknown field "${name}"`, field: `${at}.${name}` };
    }
    case 'required': {
      const name = String((e.params as { missingProperty: string }).missingProperty);
      return { message: `${at}.${name} is required`, field: `${at}.${name}` };
    }
    case 'enum':
      return {
        message: `${at} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`,
        field: at,
      };
    default:
      return { message: `${at} ${e.message ?? 'is not valid'}`, field: at };
  }
}
