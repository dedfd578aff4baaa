/**
 * @module
 * @internal The JSON-object body check shared by the settings API (controller/http.ts) and the
 * preview / confirm / audit routes (preview/console-routes.ts).
 */

/** A validated request body, or the API error code and message for a bad one. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; code: 'INVALID_JSON' | 'INVALID_BODY'; message: string };

/**
 * Parses `text` as JSON and requires an object (not null, not an array). With `allowEmpty`, an empty
 * or all-whitespace body is the empty object.
 */
export function parseJsonObject(text: string, allowEmpty = false): Parsed<Record<string, unknown>> {
  if (allowEmpty && text.trim() === '') return { ok: true, value: {} };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, code: 'INVALID_JSON', message: 'The request body is not valid JSON.' };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { ok: false, code: 'INVALID_BODY', message: 'The request body must be a JSON object.' };
  return { ok: true, value: v as Record<string, unknown> };
}
