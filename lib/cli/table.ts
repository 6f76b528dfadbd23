/** Longest cell the `list` table prints; longer values end in "…". */
export const MAX_CELL = 30;

/** `value` cut to `max` characters (the last one "…"). */
export function truncate(value: string, max = MAX_CELL): string {
  const chars = [...value];
  return chars.length <= max ? value : `${chars.slice(0, max - 1).join('')}…`;
}

/**
 * Rows as aligned columns, separated by two spaces: each column as wide as its widest cell. Control
 * characters and line breaks print as spaces, and cells are cut to `MAX_CELL` except in the columns
 * listed in `whole` (e.g. ids people copy). The last column is not padded.
 */
export function formatTable(header: string[], rows: string[][], whole: number[] = []): string {
  const cells = [header, ...rows].map((r) => r.map((c, i) => (whole.includes(i) ? c : truncate(c.replace(/[\s\p{Cc}]+/gu, ' ')))));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => [...r[i]].length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i] - [...c].length)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
