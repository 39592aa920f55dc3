/**
 * The map cannot drift from the code: lib/ is folders by layer, imports only point down the
 * layer order, no file imports itself through a cycle, no barrel index.ts, and the README's
 * layout tree names exactly the folders that exist.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT } from '../lib/core/session.ts';

/** Lowest first. Folders on one level (bootstrap, images) may not import each other. */
const LAYERS: string[][] = [
  ['core'],
  ['config'],
  ['render'],
  ['tools'],
  ['wait'],
  ['bootstrap', 'images'],
  ['smoke'],
  ['nightly'],
];
const LIB = join(REPO_ROOT, 'lib');

const levelOf = (folder: string) => LAYERS.findIndex((level) => level.includes(folder));

function libFiles(dir = LIB): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? libFiles(path) : name.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative import of a file (static, type-only and dynamic), as absolute paths. */
function importsOf(file: string, source = readFileSync(file, 'utf8')): string[] {
  const specifiers = [
    ...source.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm),
  ].map((m) => m[1]!);
  return specifiers.map((specifier) => resolve(dirname(file), specifier));
}

const folderOf = (file: string) => relative(LIB, file).split('/')[0]!;
const files = libFiles();
const graph = new Map(files.map((file) => [file, importsOf(file)]));

const layout = suite('layout: lib/ in folders by layer');

layout('every lib/ file sits in a layer folder, and there is no barrel index.ts', () => {
  const loose = files.filter((file) => !relative(LIB, file).includes('/'));
  assert.equal(
    loose.map((f) => relative(REPO_ROOT, f)),
    [],
    'files directly in lib/',
  );
  const unknown = [...new Set(files.map(folderOf))].filter((folder) => levelOf(folder) === -1);
  assert.equal(unknown, [], 'folders missing from the layer order in tests/layout.test.ts');
  assert.equal(
    files.filter((f) => f.endsWith('/index.ts')).map((f) => relative(REPO_ROOT, f)),
    [],
  );
});

layout('imports only point down the layer order (or stay in their folder)', () => {
  const upward: string[] = [];
  for (const [file, imports] of graph) {
    for (const target of imports) {
      if (!target.startsWith(`${LIB}/`)) {
        upward.push(`${relative(REPO_ROOT, file)} imports ${relative(REPO_ROOT, target)}, outside lib/`);
        continue;
      }
      const from = folderOf(file);
      const to = folderOf(target);
      if (from !== to && levelOf(to) >= levelOf(from))
        upward.push(`${relative(LIB, file)} -> ${relative(LIB, target)} (${from} may not import ${to})`);
    }
  }
  assert.equal(upward, []);
});

layout('no import cycles between files (type-only imports included)', () => {
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(LIB, f)).join(' -> '));
      return;
    }
    state.set(file, 'open');
    for (const target of graph.get(file) ?? []) visit(target, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of files) visit(file, []);
  assert.equal(cycles, []);
});

layout('the checker sees a cycle and an upward import when there is one', () => {
  // The guard must be able to fail: an import through `import type` counts as an edge.
  const fake = join(LIB, 'core', 'x.ts');
  assert.equal(importsOf(fake, "import type { A } from '../smoke/run.ts';\nconst m = await import('./y.ts');"), [
    join(LIB, 'smoke', 'run.ts'),
    join(LIB, 'core', 'y.ts'),
  ]);
  assert.ok(levelOf('smoke') > levelOf('core'));
});

layout("the README's layout tree names exactly the lib/ folders", () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const tree = /## Layout\n[\s\S]*?```\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  const named = [...tree.matchAll(/^\s*lib\/([a-z-]+)\//gm)].map((m) => m[1]!).sort();
  const actual = readdirSync(LIB)
    .filter((name) => statSync(join(LIB, name)).isDirectory())
    .sort();
  assert.equal(named, actual);
});

layout.run();
