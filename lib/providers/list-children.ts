/**
 * The direct children of `prefix` among flat "a/b/c" keys: leaf names, and folder names with a
 * trailing "/" (the shape Vault's LIST returns), sorted and de-duplicated.
 */
export function listChildren(keys: Iterable<string>, prefix: string[]): string[] {
  const children = new Set<string>();
  for (const key of keys) {
    const segments = key.split('/');
    if (segments.length <= prefix.length) continue;
    if (!prefix.every((p, i) => segments[i] === p)) continue;
    const child = segments[prefix.length];
    children.add(segments.length > prefix.length + 1 ? `${child}/` : child);
  }
  return [...children].sort();
}
