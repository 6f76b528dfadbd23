// The KV v2 least-privilege policy printed in docs/vault.md, for a given path prefix (the same
// block spec/docs/vault-policy.spec.ts applies).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function docPolicyKv2(prefix: string): string {
  const text = readFileSync(join(__dirname, '..', '..', 'docs', 'vault.md'), 'utf8');
  const marker = '<!-- policy: kv2 -->';
  const at = text.indexOf(marker);
  const block = at < 0 ? null : /^```hcl\n([\s\S]*?)^```/m.exec(text.slice(at + marker.length));
  if (!block) throw new Error(`docs/vault.md has no "${marker}" hcl block`);
  return block[1].split('"secret/data/app/').join(`"secret/data/${prefix}/`).split('"secret/metadata/app/').join(`"secret/metadata/${prefix}/`);
}
