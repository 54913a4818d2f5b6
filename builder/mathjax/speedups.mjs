// Two hot spots of MathJax 3.2.2's node building, replaced by code that does the same thing,
// cheaper. check.mjs measures every formula (post-filters + CommonHTML layout), and its profile
// (node --cpu-prof, 2,000 bench formulas) spent a fifth of its self time in Attributes.js and
// about a tenth building nodes through Factory.js; after this, 15-20% less CPU in all. Nothing here changes a value MathJax computes: tests/test_mathjax.py holds
// every verdict and width of the flagship deck and of 2,000 bench formulas to the plain MathJax's.
//
// 1. Attributes (core/MmlTree/Attributes.js) are a chain of four objects per node:
//    attributes -> inherited -> defaults -> global. MathJax builds `defaults` afresh for every
//    node (Object.create(global) plus a copy of its class's static defaults) and makes it the
//    prototype of `inherited`: V8 gives every such object a map of its own, so each node costs a
//    dozen property copies and a prototype setup, and every attribute read (parse, post-filters,
//    layout) misses V8's inline caches. Here `defaults` is built once per (class defaults, global
//    defaults) pair and shared by the nodes of that class. The chain holds the same values in the
//    same order and `defaults` the same own keys; MathJax (and safety.mjs) only read it (getDefault,
//    hasDefault, getDefaultNames, getAllDefaults, the prototype chain), never write it, and TeX's
//    configuration is done with the classes' static defaults before the first node is built.
// 2. Factories (core/Tree/Factory.js) build each node, wrapper and stack item with
//    `new (KIND.bind.apply(KIND, [void 0, factory, ...args]))()` after copying the arguments
//    twice; here `new KIND(factory, ...args)`: the same constructor with the same arguments.
//
// Call before the TeX input and the output jax are made: their factories are built then.

import { createRequire } from 'node:module';
import { join } from 'node:path';

import { ROOT } from './modules.mjs';

const PATCHED = Symbol('mathdeck speedups');

export function speedUpMathJax() {
  const require = createRequire(join(ROOT, 'package.json')); // the same module instances as modules.mjs
  shareAttributeDefaults(require('mathjax-full/js/core/MmlTree/Attributes.js'));
  constructDirectly(require('mathjax-full/js/core/Tree/Factory.js').AbstractFactory);
}

function shareAttributeDefaults(attributesModule) {
  const Original = attributesModule.Attributes;
  if (Original[PATCHED]) return;
  const shared = new Map(); // class defaults -> Map(global defaults -> the shared `defaults`)

  function Attributes(defaults, global) {
    this.global = global;
    let byGlobal = shared.get(defaults);
    if (!byGlobal) shared.set(defaults, (byGlobal = new Map()));
    let chained = byGlobal.get(global);
    if (!chained) byGlobal.set(global, (chained = Object.assign(Object.create(global), defaults)));
    this.defaults = chained;
    this.inherited = Object.create(chained);
    this.attributes = Object.create(this.inherited);
  }
  Attributes.prototype = Original.prototype; // the same methods; instanceof holds
  Attributes[PATCHED] = true;
  // MmlNode.js looks up `Attributes_js_1.Attributes` each time it builds a node.
  attributesModule.Attributes = Attributes;
}

function constructDirectly(AbstractFactory) {
  const proto = AbstractFactory.prototype;
  if (proto[PATCHED]) return;
  proto.setNodeClass = function setNodeClass(kind, nodeClass) {
    this.nodeMap.set(kind, nodeClass);
    const factory = this;
    this.node[kind] = (...args) => new nodeClass(factory, ...args);
  };
  proto.create = function create(kind, ...args) {
    return (this.node[kind] || this.node[this.defaultKind])(...args);
  };
  proto[PATCHED] = true;
}
