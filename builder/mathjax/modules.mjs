// MathJax's modules from the repository's node_modules, shared by check.mjs and typeset.mjs.
//
// The repo root (where package.json and node_modules live) is two folders up from this file, or
// MATHDECK_NODE_ROOT. A missing mathjax-full exits with code 3 and says to run `npm ci`.

import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { withCodeCache } from './codecache.mjs';

export const ROOT = process.env.MATHDECK_NODE_ROOT
  || resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const mathjaxRequire = createRequire(join(ROOT, 'package.json'));

export function requireMathJaxInstalled() {
  try {
    mathjaxRequire.resolve('mathjax-full/js/mathjax.js');
  } catch {
    process.stderr.write(`mathjax-full is not installed under ${ROOT}/node_modules: `
      + 'run `npm ci` (or `make setup`)\n');
    process.exit(3);
  }
}

export function loadMathJax() {
  requireMathJaxInstalled();
  return withCodeCache(requireMathJax);
}

function requireMathJax() {
  const require = mathjaxRequire;
  return {
    mathjax: require('mathjax-full/js/mathjax.js').mathjax,
    TeX: require('mathjax-full/js/input/tex.js').TeX,
    CHTML: require('mathjax-full/js/output/chtml.js').CHTML,
    // Only typeset.mjs draws SVG: its output jax and font load on first use (~40 ms of every check).
    get SVG() {
      return require('mathjax-full/js/output/svg.js').SVG;
    },
    AllPackages: require('mathjax-full/js/input/tex/AllPackages.js').AllPackages,
    liteAdaptor: require('mathjax-full/js/adaptors/liteAdaptor.js').liteAdaptor,
    lengths: require('mathjax-full/js/util/lengths.js'),
    RegisterHTMLHandler: require('mathjax-full/js/handlers/html.js').RegisterHTMLHandler,
    STATE: require('mathjax-full/js/core/MathItem.js').STATE,
    // Every named entity up front: otherwise MathJax tries to load them on demand.
    entities: require('mathjax-full/js/util/entities/all.js'),
  };
}
