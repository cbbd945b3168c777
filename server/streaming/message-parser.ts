/**
 * Client → server JSON messages: parsed and validated against the shared schemas (shared/messages.ts), with an
 * error a client can act on for each way a frame can be wrong. Never throws.
 */
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

export type ParseResult<T> = { ok: true; message: T } | { ok: false; message: string; details?: unknown };

export function createMessageParser<T extends { type: string }>(schemas: Record<T['type'], TSchema>): (text: string) => ParseResult<T> {
  const validators = new Map(Object.entries<TSchema>(schemas).map(([type, schema]) => [type, Compile(schema)]));
  const known = [...validators.keys()].join(', ');
  return (text) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { ok: false, message: 'not valid JSON' };
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { ok: false, message: 'a message is a JSON object with a "type"' };
    }
    const type = (value as { type?: unknown }).type;
    const validator = typeof type === 'string' ? validators.get(type) : undefined;
    if (!validator) return { ok: false, message: `unknown message type; expected one of: ${known}` };
    if (!validator.Check(value)) {
      const details = validator
        .Errors(value)
        .slice(0, 3)
        .map((e) => ({ path: e.instancePath, message: e.message }));
      return { ok: false, message: `invalid ${type} message`, details };
    }
    return { ok: true, message: value as T };
  };
}
