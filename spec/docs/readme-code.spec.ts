// Every TypeScript/JavaScript code block in README.md and docs/*.md is type-checked (strict) against
// the library's source, and every YAML block is validated as a config file, so the docs cannot rot.
// A block that is deliberately a fragment is preceded by `<!-- not-checked: <reason> -->`.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { parseConfigText } from '../../lib/config/load';

const ROOT = join(__dirname, '..', '..');
const OUT = join(ROOT, '.cache', 'doc-blocks');

const TS_LANGS = new Set(['ts', 'typescript', 'js', 'javascript']);
const YAML_LANGS = new Set(['yaml', 'yml']);
const NOT_CHECKED = /^<!--\s*not-checked:\s*(\S[^>]*?)\s*-->$/;

interface Block {
  /** e.g. "docs/vault.md" */
  file: string;
  /** 1-based line of the block's first code line in `file`. */
  line: number;
  lang: string;
  code: string;
  /** Reason from a preceding `<!-- not-checked: reason -->`, if any. */
  skipReason?: string;
}

function markdownFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => join('docs', f));
  return ['README.md', ...docs];
}

/** Fenced blocks of one markdown file, with the marker comment (if any) on the line before the fence. */
function extractBlocks(file: string): Block[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})\s*([\w+-]*)/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    let end = i + 1;
    while (end < lines.length && !lines[end].startsWith(`${indent}${fence}`)) end++;
    let prev = i - 1;
    while (prev >= 0 && lines[prev].trim() === '') prev--;
    const marker = prev >= 0 ? NOT_CHECKED.exec(lines[prev].trim()) : null;
    blocks.push({
      file,
      line: i + 2,
      lang: lang.toLowerCase(),
      code: lines
        .slice(i + 1, end)
        .map((l) => l.slice(indent.length))
        .join('\n'),
      skipReason: marker?.[1],
    });
    i = end;
  }
  return blocks;
}

const all = markdownFiles().flatMap(extractBlocks);
const codeBlocks = all.filter((b) => TS_LANGS.has(b.lang) && b.skipReason === undefined);
const yamlBlocks = all.filter((b) => YAML_LANGS.has(b.lang) && b.skipReason === undefined);
const where = (b: Block) => `${b.file}:${b.line} (${b.lang})`;

/** Block file name -> block, filled when the blocks are written. */
const written = new Map<string, Block>();
let diagnostics: readonly ts.Diagnostic[] = [];

function writeBlocks(): string[] {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  return codeBlocks.map((block, n) => {
    const ext = block.lang.startsWith('j') ? 'js' : 'ts';
    const name = join(OUT, `block-${n + 1}-${block.file.replace(/[^A-Za-z0-9]+/g, '_')}-L${block.line}.${ext}`);
    // `export {}` makes every block a module (own scope, top-level await allowed).
    writeFileSync(name, `${block.code}\nexport {};\n`);
    written.set(name, block);
    return name;
  });
}

function typeCheck(files: string[]): readonly ts.Diagnostic[] {
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts'],
    types: ['node'],
    esModuleInterop: true,
    skipLibCheck: true,
    allowJs: true,
    checkJs: true,
    noFallthroughCasesInSwitch: true,
    baseUrl: ROOT,
    // The package name resolves to the source, so the check needs no build.
    paths: { 'express-secrets-auth': ['lib/index.ts'] },
  };
  const program = ts.createProgram(files, options);
  return ts.getPreEmitDiagnostics(program);
}

function format(d: ts.Diagnostic): string {
  const message = ts.flattenDiagnosticMessageText(d.messageText, '\n    ');
  if (!d.file || d.start === undefined) return `TS${d.code}: ${message}`;
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
  const block = written.get(d.file.fileName) ?? written.get(d.file.fileName.replace(/\//g, '\\'));
  if (block) return `${block.file}:${block.line + line}:${character + 1} TS${d.code}: ${message}`;
  return `${relative(ROOT, d.file.fileName)}:${line + 1}:${character + 1} TS${d.code}: ${message}`;
}

describe('code blocks in README.md and docs/*.md', () => {
  beforeAll(() => {
    diagnostics = typeCheck(writeBlocks());
  }, 120_000);

  test('there are blocks to check, and every not-checked marker gives a reason', () => {
    expect(codeBlocks.length).toBeGreaterThanOrEqual(10);
    const markers = markdownFiles().flatMap((file) =>
      readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .map((text, i) => ({ text: text.trim(), at: `${file}:${i + 1}` }))
        .filter(({ text }) => text.startsWith('<!-- not-checked')),
    );
    expect(markers.filter(({ text }) => !NOT_CHECKED.test(text)).map(({ at }) => at)).toEqual([]);
  });

  test('no diagnostics outside the blocks (the library itself, its types)', () => {
    const stray = diagnostics.filter((d) => !d.file || !written.has(d.file.fileName));
    expect(stray.map(format)).toEqual([]);
  });

  test.each(codeBlocks.map((b) => [where(b), b] as const))('%s type-checks (strict)', (_name, block) => {
    const errors = diagnostics.filter((d) => d.file && written.get(d.file.fileName) === block);
    expect(errors.map(format)).toEqual([]);
  });

  test.each(yamlBlocks.map((b) => [where(b), b] as const))('%s is a valid config (parseConfig)', (name, block) => {
    expect(() => parseConfigText(block.code, name)).not.toThrow();
  });
});
