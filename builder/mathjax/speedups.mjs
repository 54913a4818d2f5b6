// Hot spots of MathJax 3.2.2's node building, replaced by code that does the same thing, cheaper.
// check.mjs measures every formula (post-filters + CommonHTML layout), and its profile (node
// --cpu-prof, 2,000 bench formulas) spent a fifth of its self time in Attributes.js and about a
// tenth building nodes through Factory.js. With these, checking 5,000 bench formulas takes half
// the CPU time, the flagship deck's a quarter less. Nothing here changes a value MathJax
// computes: tests/test_mathjax.py holds every verdict and width of the flagship deck, of 2,000
// bench formulas and of good, bad and unsafe TeX to those of MathJax as shipped.
//
// 1. Attributes (core/MmlTree/Attributes.js) are a chain of four objects per node:
//    attributes -> inherited -> defaults -> global, read through JavaScript prototypes. MathJax
//    builds `defaults` afresh for every node (Object.create(global) plus a copy of its class's
//    static defaults) and makes `defaults` and `inherited` prototypes: V8 gives every such object
//    a map of its own, so each node costs a dozen property copies and two prototype setups, and
//    every attribute read (parse, post-filters, layout) misses V8's inline caches.
//    Here `defaults` (still with `global` as its prototype) is built once per (class defaults,
//    global defaults) pair and shared by the nodes of that class, and `attributes` and
//    `inherited` are plain objects: get() and getInherited() look in attributes, then inherited,
//    then defaults (then global), as the prototype chain did. Every other method reads only own
//    keys (getExplicit, isSet, get...Names) or `defaults` (getDefault, hasDefault) and works on
//    these objects unchanged. MathJax's code and safety.mjs read getAllAttributes() and
//    getAllInherited() by own key only (Object.keys/entries/assign, delete, a key from
//    getExplicitNames), and only read `defaults` (TeX's configuration has set the classes'
//    static defaults before the first node is built).
// 2. Factories (core/Tree/Factory.js) build each node, wrapper and stack item with
//    `new (KIND.bind.apply(KIND, [void 0, factory, ...args]))()` after copying the arguments
//    twice; here `new KIND(factory, ...args)`: the same constructor with the same arguments.
//    The calls on the way there (TexParser.create, the TeX NodeFactory.create, the output's
//    WrapperFactory.wrap) copy their arguments through TypeScript's iterator helpers
//    (__spreadArray(__read(...))); here JavaScript's own spread: the same function, `this` and
//    argument list.
// 3. Symbol maps (input/tex/MapHandler.js, SymbolMap.js): each macro, character and environment is
//    looked up by asking every map of its kind in priority order (with all packages, dozens of
//    them) to parse it, and each map first copies the [env, symbol] pair through __read before it
//    finds that it lacks the symbol. A map keyed by a JavaScript Map (AbstractParseMap and its
//    subclasses, whose lookup and contains read that Map, and whose parse looks the symbol up as
//    given: not DelimiterMap's, which adds a backslash) answers null for a symbol it lacks, with
//    no side effect: here it is skipped, and the others are asked as before, in the same order,
//    the first answer winning. Which maps may answer a symbol is found once per symbol (one
//    Map.get instead of a Map.has per map: 42 macro maps, 9 character maps), and found again
//    when a map changes (\newcommand, \DeclareMathOperator: add() and remove()).
// 4. TypeScript's ES5 loops in the parse's innermost calls and the walks over every node, written
//    in JavaScript's own (loops.mjs).
//
// Call before the TeX input and the output jax are made: their factories are built then.

import { createRequire } from 'node:module';
import { join } from 'node:path';

import { iterateNatively, walkNatively } from './loops.mjs';
import { ROOT } from './modules.mjs';

const PATCHED = Symbol('mathdeck speedups');

export function speedUpMathJax() {
  const require = createRequire(join(ROOT, 'package.json')); // the same module instances as modules.mjs
  shareAttributeDefaults(require('mathjax-full/js/core/MmlTree/Attributes.js'));
  constructDirectly(require('mathjax-full/js/core/Tree/Factory.js').AbstractFactory);
  spreadDirectly(
    require('mathjax-full/js/input/tex/TexParser.js').default,
    require('mathjax-full/js/input/tex/NodeFactory.js').NodeFactory,
    require('mathjax-full/js/core/Tree/WrapperFactory.js').AbstractWrapperFactory,
  );
  walkNatively(require('mathjax-full/js/core/Tree/Node.js'), require('mathjax-full/js/core/MmlTree/MmlNode.js'));
  iterateNatively(
    require('mathjax-full/js/input/tex/Stack.js').default,
    require('mathjax-full/js/input/tex/StackItem.js').MmlStack,
    require('mathjax-full/js/input/tex/NodeUtil.js').default,
    require('mathjax-full/js/input/tex/SymbolMap.js'),
    require('mathjax-full/js/util/FunctionList.js').FunctionList,
    require('mathjax-full/js/input/tex/ParseOptions.js').default,
  );
  // after iterateNatively: it knows the symbol maps' parse methods by identity
  skipMapsWithoutTheSymbol(
    require('mathjax-full/js/input/tex/MapHandler.js').SubHandler,
    require('mathjax-full/js/input/tex/SymbolMap.js'),
  );
}

function shareAttributeDefaults(attributesModule) {
  const Original = attributesModule.Attributes;
  if (Original[PATCHED]) return;
  const { INHERIT } = attributesModule;
  const hasOwn = Object.hasOwn;
  const shared = new Map(); // class defaults -> Map(global defaults -> the shared `defaults`)

  function Attributes(defaults, global) {
    this.global = global;
    let byGlobal = shared.get(defaults);
    if (!byGlobal) shared.set(defaults, (byGlobal = new Map()));
    let chained = byGlobal.get(global);
    if (!chained) byGlobal.set(global, (chained = Object.assign(Object.create(global), defaults)));
    this.defaults = chained;
    this.inherited = {};
    this.attributes = {};
  }
  Attributes.prototype = Object.create(Original.prototype); // instanceof holds
  Attributes.prototype.constructor = Attributes;
  // attributes -> inherited -> defaults, looked up one by one instead of through prototypes.
  Attributes.prototype.get = function get(name) {
    let value = hasOwn(this.attributes, name) ? this.attributes[name]
      : hasOwn(this.inherited, name) ? this.inherited[name] : this.defaults[name];
    if (value === INHERIT) value = this.global[name];
    return value;
  };
  Attributes.prototype.getInherited = function getInherited(name) {
    return hasOwn(this.inherited, name) ? this.inherited[name] : this.defaults[name];
  };
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

function spreadDirectly(TexParser, NodeFactory, AbstractWrapperFactory) {
  if (TexParser.prototype[PATCHED]) return;
  TexParser.prototype.create = function create(kind, ...rest) {
    return this.configuration.nodeFactory.create(kind, ...rest);
  };
  NodeFactory.prototype.create = function create(kind, ...rest) {
    const func = this.factory[kind] || this.factory.node;
    const node = func(this, rest[0], ...rest.slice(1)); // as MathJax: (factory, rest[0]) at least
    if (kind === 'node') this.configuration.addNode(rest[0], node);
    return node;
  };
  AbstractWrapperFactory.prototype.wrap = function wrap(node, ...args) {
    return this.create(node.kind, node, ...args);
  };
  TexParser.prototype[PATCHED] = true;
}

function skipMapsWithoutTheSymbol(SubHandler, SymbolMaps) {
  if (SubHandler.prototype[PATCHED]) return;
  const { AbstractParseMap, AbstractSymbolMap, MacroMap, CommandMap, EnvironmentMap } = SymbolMaps;
  const { lookup, contains } = AbstractParseMap.prototype;
  // parse() methods that look the symbol up as given (DelimiterMap's adds a backslash first).
  const parsesAsGiven = new Set([AbstractSymbolMap, MacroMap, CommandMap, EnvironmentMap]
    .map((kind) => kind.prototype.parse));
  const mayBeSkipped = (map) => map instanceof AbstractParseMap && map.lookup === lookup
    && map.contains === contains && parsesAsGiven.has(map.parse);
  // Whether the entry's map answers null for a symbol its Map lacks, kept on the priority list's
  // entry ({item, priority}, never changed once made).
  const SKIPPABLE = Symbol('mathdeck: skip without the symbol');
  const skippable = (entry) => {
    let known = entry[SKIPPABLE];
    if (known === undefined) known = entry[SKIPPABLE] = mayBeSkipped(entry.item);
    return known;
  };
  // Which entries may answer a symbol, found once per symbol and handler: the skippable maps
  // that hold it, and every other map. A map changes only through add() and remove() (MathJax
  // writes its Map nowhere else): a map that ever changes is asked live from then on, and the
  // lists are found again, as they are when maps are added to the handler (MathJax adds maps
  // while parsing only through require and autoload, which the checker does not load).
  const CHANGES = Symbol('mathdeck: the map has changed');
  const PLAN = Symbol('mathdeck: entries that may answer each symbol');
  let changes = 0;
  const changing = (method) => function changingMap(...args) {
    if (!this[CHANGES]) {
      this[CHANGES] = true;
      changes += 1;
    }
    return method.apply(this, args);
  };
  AbstractParseMap.prototype.add = changing(AbstractParseMap.prototype.add);
  AbstractParseMap.prototype.remove = changing(AbstractParseMap.prototype.remove);
  const { add } = SubHandler.prototype;
  SubHandler.prototype.add = function addMaps(...args) {
    changes += 1;
    return add.apply(this, args);
  };
  const entriesFor = (handler, symbol) => {
    const items = handler._configuration.items;
    let plan = handler[PLAN];
    if (!plan || plan.changes !== changes || plan.length !== items.length) {
      plan = handler[PLAN] = { changes, length: items.length, bySymbol: new Map() };
    }
    let entries = plan.bySymbol.get(symbol);
    if (!entries) {
      entries = items.filter((entry) => !skippable(entry) || entry.item[CHANGES] || entry.item.map.has(symbol));
      plan.bySymbol.set(symbol, entries);
    }
    return entries;
  };
  SubHandler.prototype.parse = function parse(input) {
    const symbol = input[1];
    for (const entry of entriesFor(this, symbol)) {
      const map = entry.item;
      if (map[CHANGES] && skippable(entry) && !map.map.has(symbol)) continue;
      const result = map.parse(input);
      if (result) return result;
    }
    this._fallback.items[0].item(input[0], symbol); // as MathJax: Array.from(fallbacks)[0]
  };
  SubHandler.prototype[PATCHED] = true;
}
