// Speed-ups of MathJax 3.2.2 (see speedups.mjs, which applies them; tests/test_mathjax.py and
// tests/test_mathjax_verdicts.py hold every verdict and width to MathJax's as shipped).
//
// Loops of the parse's innermost calls (Stack.Push, the symbol maps' parse, MmlStack's Push and
// create, FunctionList.execute: every filter) are TypeScript's ES5 output: each copies its
// arguments, then iterates them and spreads them again through __values/__read/__spreadArray
// (an iterator object and a result object per element, in try/finally): 5% of a formula's CPU.
// Here the same loops and calls with JavaScript's own rest, spread and for-of (which iterate
// arrays as those helpers do), in the same order, with the same `this` and the same arguments;
// likewise ParseOptions.getList (each filter's nodes of a kind still in the tree) and the walks
// over every node of a tree (walkTree, setInheritedAttributes and its children's).

const PATCHED = Symbol('mathdeck loops');

export function iterateNatively(Stack, MmlStack, NodeUtil, SymbolMaps, FunctionList, ParseOptions) {
  if (Stack.prototype[PATCHED]) return;
  const { AbstractSymbolMap, MacroMap, CommandMap, EnvironmentMap, parseResult } = SymbolMaps;
  Stack.prototype.Push = function Push(...args) {
    for (const node of args) {
      if (!node) continue;
      const item = NodeUtil.isNode(node) ? this._factory.create('mml', node) : node;
      item.global = this.global;
      const [top, success] = this.stack.length ? this.Top().checkItem(item) : [null, true];
      if (!success) continue;
      if (top) {
        this.Pop();
        this.Push(...top);
        continue;
      }
      this.stack.push(item);
      if (item.env) {
        if (item.copyEnv) Object.assign(item.env, this.env);
        this.env = item.env;
      } else {
        item.env = this.env;
      }
    }
  };
  MmlStack.prototype.Push = function Push(...nodes) {
    this._nodes.push(...nodes);
  };
  MmlStack.prototype.create = function create(kind, ...rest) {
    return this.factory.configuration.nodeFactory.create(kind, ...rest);
  };
  AbstractSymbolMap.prototype.parse = function parse([env, symbol]) {
    const parser = this.parserFor(symbol);
    const mapped = this.lookup(symbol);
    return (parser && mapped) ? parseResult(parser(env, mapped)) : null;
  };
  MacroMap.prototype.parse = function parse([env, symbol]) {
    const macro = this.lookup(symbol);
    const parser = this.parserFor(symbol);
    if (!macro || !parser) return null;
    return parseResult(parser(env, macro.symbol, ...macro.args));
  };
  CommandMap.prototype.parse = function parse([env, symbol]) {
    const macro = this.lookup(symbol);
    const parser = this.parserFor(symbol);
    if (!macro || !parser) return null;
    const saveCommand = env.currentCS;
    env.currentCS = `\\${symbol}`;
    const result = parser(env, `\\${macro.symbol}`, ...macro.args);
    env.currentCS = saveCommand;
    return parseResult(result);
  };
  EnvironmentMap.prototype.parse = function parse([env, symbol]) {
    const macro = this.lookup(symbol);
    const envParser = this.parserFor(symbol);
    if (!macro || !envParser) return null;
    return parseResult(this.parser(env, macro.symbol, envParser, macro.args));
  };
  // PrioritizedList's iterator reads `items` by index up to its length at each step, as this does.
  FunctionList.prototype.execute = function execute(...data) {
    const items = this.items;
    for (let i = 0; i < items.length; i += 1) {
      const item = items[i];
      if (item.item.apply(item, data) === false) return false;
    }
    return true;
  };
  ParseOptions.prototype.getList = function getList(property) {
    const result = [];
    for (const node of this.nodeLists[property] || []) {
      if (this.inTree(node)) result.push(node);
    }
    this.nodeLists[property] = result;
    return result;
  };
  Stack.prototype[PATCHED] = true;
}

export function walkNatively({ AbstractNode }, { AbstractMmlNode, AbstractMmlTokenNode }) {
  if (AbstractNode.prototype[PATCHED]) return;
  AbstractNode.prototype.walkTree = function walkTree(func, data) {
    func(this, data);
    for (const child of this.childNodes) {
      if (child) child.walkTree(func, data);
    }
    return data;
  };
  AbstractMmlTokenNode.prototype.walkTree = function walkTree(func, data) {
    func(this, data);
    for (const child of this.childNodes) {
      if (child instanceof AbstractMmlNode) child.walkTree(func, data);
    }
  };
  const base = AbstractMmlNode.prototype;
  // MathJax's own, from the line after its loop: the attributes given, then its own defaults
  const rest = (node, display, level, prime) => {
    const attributes = node.attributes;
    if (attributes.getExplicit('displaystyle') === undefined) attributes.setInherited('displaystyle', display);
    if (attributes.getExplicit('scriptlevel') === undefined) attributes.setInherited('scriptlevel', level);
    if (prime) node.setProperty('texprimestyle', prime);
    const arity = node.arity;
    if (arity >= 0 && arity !== Infinity && ((arity === 1 && node.childNodes.length === 0)
        || (arity !== 1 && node.childNodes.length !== arity))) {
      if (arity < node.childNodes.length) node.childNodes = node.childNodes.slice(0, arity);
      else while (node.childNodes.length < arity) node.appendChild(node.factory.create('mrow'));
    }
  };
  base.setInheritedAttributes = function setInherited(attributes = {}, display = false, level = 0, prime = false) {
    const defaults = this.attributes.getAllDefaults();
    for (const key of Object.keys(attributes)) {
      if (defaults.hasOwnProperty(key) || AbstractMmlNode.alwaysInherit.hasOwnProperty(key)) {
        const [node, value] = attributes[key];
        const noinherit = (AbstractMmlNode.noInherit[node] || {})[this.kind] || {};
        if (!noinherit[key]) this.attributes.setInherited(key, value);
      }
    }
    rest(this, display, level, prime);
    this.setChildInheritedAttributes(attributes, display, level, prime);
  };
  base.setChildInheritedAttributes = function setChildInheritedAttributes(attributes, display, level, prime) {
    for (const child of this.childNodes) child.setInheritedAttributes(attributes, display, level, prime);
  };
  AbstractMmlTokenNode.prototype.setChildInheritedAttributes = function setTokenChildren(attributes, display, level, prime) {
    for (const child of this.childNodes) {
      if (child instanceof AbstractMmlNode) child.setInheritedAttributes(attributes, display, level, prime);
    }
  };
  AbstractNode.prototype[PATCHED] = true;
}
