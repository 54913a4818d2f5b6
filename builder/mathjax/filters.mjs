// Cheaper stand-ins for post-filters the TeX input runs on every formula, each doing the same
// thing whenever it could change something (speedups.mjs patches MathJax's classes; these patch
// one TeX input's filter list, so they are applied once it exists). tests/test_mathjax.py holds
// every verdict and width to those of MathJax as shipped (MATHDECK_MATHJAX_PLAIN=1).
//
// 1. FilterUtil.cleanAttributes visits every node and, before looking at its attributes, builds
//    new Set((get('mjx-keep-attrs') || '').split(/ /)): a regular-expression split and a Set per
//    node (~1.5% of a formula's CPU), though only \mmlToken-made nodes ever carry that list.
//    Here the Set without a list is the same one-element Set(['']), made once; everything else is
//    MathJax's code, in its order.
// 2. bussproofs' makeBsprAttributes walks every node of every formula, and for each of its
//    properties builds RegExp('^bspr_') to find the proof-tree properties it copies into a
//    `semantics` attribute: 2% of a formula's CPU, for nothing unless it has a proof tree. Every
//    such property is set through BussproofsUtil's exported setProperty (the package's own
//    modules call it through the module object, BussproofsUtil.setProperty, at call time), so a
//    formula that never called it has none, and the walk is skipped; a formula that did gets the
//    original walk.
// Fail-safe: a filter or function that is not where MathJax 3.2.2 has it is left as it is.

import { createRequire } from 'node:module';
import { join } from 'node:path';

import { ROOT } from './modules.mjs';

const require = createRequire(join(ROOT, 'package.json')); // the same module instances as modules.mjs

export function speedUpFilters(tex) {
  keepListOnlyWhereThereIsOne(tex, require('mathjax-full/js/input/tex/FilterUtil.js').default);
  skipProofTreeWalkWithoutProofTrees(tex, require('mathjax-full/js/input/tex/bussproofs/BussproofsUtil.js'));
}

function skipProofTreeWalkWithoutProofTrees(tex, bussproofs) {
  const { makeBsprAttributes, setProperty } = bussproofs;
  const entry = tex.postFilters.items.find(({ item }) => item === makeBsprAttributes);
  if (!entry || typeof setProperty !== 'function') return;
  let proofTreeProperties = true; // until a formula has been through the filter: run it
  bussproofs.setProperty = function markedSetProperty(...args) {
    proofTreeProperties = true;
    return setProperty(...args);
  };
  entry.item = function makeBsprAttributesIfAny(...args) {
    // Reset first: a formula whose parse throws never reaches here, and the next one runs the walk.
    const walk = proofTreeProperties;
    proofTreeProperties = false;
    return walk ? makeBsprAttributes.apply(this, args) : undefined;
  };
}

function keepListOnlyWhereThereIsOne(tex, FilterUtil) {
  const entry = tex.postFilters.items.find(({ item }) => item === FilterUtil.cleanAttributes);
  if (!entry) return;
  const NOTHING_KEPT = new Set(['']); // what ''.split(/ /) gives; only ever read
  entry.item = function cleanAttributes(arg) {
    arg.data.root.walkTree((mml) => {
      const attribs = mml.attributes;
      if (!attribs) return;
      const kept = attribs.get('mjx-keep-attrs');
      const keep = kept ? new Set(kept.split(/ /)) : NOTHING_KEPT;
      delete attribs.getAllAttributes()['mjx-keep-attrs'];
      for (const key of attribs.getExplicitNames()) {
        if (!keep.has(key) && attribs.attributes[key] === mml.attributes.getInherited(key)) {
          delete attribs.attributes[key];
        }
      }
    }, {});
  };
}
