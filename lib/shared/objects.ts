// Two checks for "is this an object with keys", which differ on purpose: parsed YAML/JSON and
// option bags are read with the loose one; walking a value to rewrite the strings inside it uses
// the strict one, so class instances (Date, Buffer, Map, a provider) pass through untouched.

/** Any non-null object that is not an array, class instances included. */
export function isNonArrayObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An object whose prototype is `Object.prototype` or `null` (an object literal or parsed mapping); arrays and class instances are not. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
