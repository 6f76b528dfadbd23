// The README blocks that are meant to be copied and run: each follows a `<!-- run: <name> ... -->`
// line. Specs take them verbatim from README.md, so the README cannot drift from what works.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const README = join(__dirname, '..', '..', 'README.md');

/** The code of the fenced block right after `<!-- run: <name>`; throws when there is none. */
export function readmeBlock(name: string): string {
  const lines = readFileSync(README, 'utf8').split('\n');
  const at = lines.findIndex((l) => l.trim().startsWith(`<!-- run: ${name} `) || l.trim() === `<!-- run: ${name} -->`);
  if (at < 0) throw new Error(`README.md has no "<!-- run: ${name} -->" block`);
  let open = at + 1;
  while (open < lines.length && lines[open].trim() === '') open++;
  const fence = /^(`{3,})/.exec(lines[open])?.[1];
  if (!fence) throw new Error(`README.md: "<!-- run: ${name} -->" is not followed by a fenced block`);
  const close = lines.findIndex((l, i) => i > open && l.startsWith(fence));
  return `${lines.slice(open + 1, close).join('\n')}\n`;
}
