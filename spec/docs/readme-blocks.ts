// The documentation blocks that are meant to be copied and run: each follows a `<!-- run: <name> ... -->`
// line. Specs take them verbatim from README.md or docs/*.md, so the docs cannot drift from what works.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** The code of the fenced block right after `<!-- run: <name>` in `file` (relative to the repo); throws when there is none. */
export function docBlock(file: string, name: string): string {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const at = lines.findIndex((l) => l.trim().startsWith(`<!-- run: ${name} `) || l.trim() === `<!-- run: ${name} -->`);
  if (at < 0) throw new Error(`${file} has no "<!-- run: ${name} -->" block`);
  let open = at + 1;
  while (open < lines.length && lines[open].trim() === '') open++;
  const fence = /^(`{3,})/.exec(lines[open])?.[1];
  if (!fence) throw new Error(`${file}: "<!-- run: ${name} -->" is not followed by a fenced block`);
  const close = lines.findIndex((l, i) => i > open && l.startsWith(fence));
  return `${lines.slice(open + 1, close).join('\n')}\n`;
}

/** `docBlock` of README.md. */
export function readmeBlock(name: string): string {
  return docBlock('README.md', name);
}
