// Copies the token page's static assets (lib/admin/ui/*) next to the compiled router (dist/admin/ui),
// which reads them at startup. No bundling: users need no build step.
const fs = require('node:fs');
const path = require('node:path');

const from = path.join(__dirname, '..', 'lib', 'admin', 'ui');
const to = path.join(__dirname, '..', 'dist', 'admin', 'ui');
fs.mkdirSync(to, { recursive: true });
const files = fs.readdirSync(from).filter((f) => /\.(html|js|css|svg)$/.test(f));
for (const file of files) fs.copyFileSync(path.join(from, file), path.join(to, file));
console.log(`dist/admin/ui: ${files.length} page assets`);
