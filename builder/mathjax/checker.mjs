// The per-formula checker behind check.mjs: one TeX input and CommonHTML output jax per thread,
// and check(tex, display) -> {error, width[, bound]} for each formula (see check.mjs for what
// is checked and measured).

import { speedUpFilters } from './filters.mjs';
import { loadMathJax } from './modules.mjs';
import { makeSafetyCheck, policyFromEnvironment } from './safety.mjs';
import { speedUpMathJax } from './speedups.mjs';
import { makeWidthBound } from './widthbound.mjs';

const LEFT_OUT = new Set([
  'textmacros', // Anki removes it: see literalMacroInText
  'noerrors', // hides parse errors
  'noundefined', // hides undefined macros
]);

export function checkedPackages(mj) {
  return mj.AllPackages.filter((name) => !LEFT_OUT.has(name));
}

// What mathdeck hands every checker in the environment, read once (process.env is a getenv per
// read: 1% of a formula's CPU when read per formula): the deck's safety policy and the width
// bound's limit (see `bounded` below).
export function settingsFromEnvironment() {
  return { ...policyFromEnvironment(), boundLimitEm: Number(process.env.MATHDECK_WIDTH_BOUND_LIMIT_EM) || 0 };
}

// `settings`: settingsFromEnvironment(); the startup snapshot (snapshot.cjs) fills them in at each run.
export function makeChecker(settings = settingsFromEnvironment()) {
  const mj = loadMathJax();
  // Same answers, up to half the CPU (speedups.mjs); MATHDECK_MATHJAX_PLAIN=1 runs MathJax as shipped,
  // for the test that compares the two.
  if (!process.env.MATHDECK_MATHJAX_PLAIN) speedUpMathJax(); // before the TeX input and the output jax exist
  mj.RegisterHTMLHandler(mj.liteAdaptor());
  const packages = checkedPackages(mj);
  let lastError = null;
  const tex = new mj.TeX({
    packages,
    // Anki's other TeX options (delimiters, processEscapes/Environments/Refs) only matter
    // when finding math in a page; we are handed the TeX between the delimiters.
    formatError(jax, err) {
      lastError = err;
      return jax.formatError(err);
    },
  });
  // The post-filters (cleanSubSup, moveLimits, combineRelations, ...) finish the MathML that the
  // output measures: without them a subscript has no layout and widths are wrong.
  // Anki's output is CommonHTML; bussproofs' pre-filter refuses to run without an output jax.
  const doc = mj.mathjax.document('', { InputJax: tex, OutputJax: new mj.CHTML() });
  if (!process.env.MATHDECK_MATHJAX_PLAIN) speedUpFilters(tex); // the filters are in place now
  // \newcommand, \def, \let, \DeclareMathOperator ... store definitions in these maps for
  // the life of the TeX input; clear them so each formula is checked on its own (a learner's
  // Anki may show the card that uses a macro before the card that defines it).
  const definitionMaps = ['new-Command', 'new-Environment', 'new-Delimiter', 'ams-declare-ops',
    'mathtools-paired-delims']
    .map((name) => tex.parseOptions.handlers.retrieve(name))
    .filter(Boolean);
  if (definitionMaps.length !== 5) throw new Error('newcommand definition maps not found');
  const safety = makeSafetyCheck(tex, settings);

  const output = doc.outputJax;
  const failed = (error) => ({ error, width: null });
  // The width of a formula that parsed. MathJax's layout needs a browser to measure characters its
  // fonts lack (\unicode{8364} throws here): such a formula is fine, just not measured (null).
  const measure = (math) => {
    try {
      return output.getBBox(math, doc).w;
    } catch (err) {
      if (err instanceof RangeError) throw err;
      return null;
    }
  };

  // A formula whose width bound (widthbound.mjs) is at most this many ems is not laid out: its
  // width is that bound, marked as one (check_math.py asks again, exact, for a bound that does not
  // fit its card). 0: every width exact.
  const widthBound = makeWidthBound(output, mj.lengths);
  const bounded = (math) => {
    const limit = settings.boundLimitEm;
    if (!(limit > 0)) return null;
    let bound;
    try {
      bound = Math.ceil(widthBound(math.root) * 1000) / 1000; // rounded up: still a bound
    } catch {
      return null; // a tree the walk did not expect (or too deep for it): the layout decides
    }
    return bound <= limit ? bound : null; // NaN (not modelled) is never <= limit
  };

  return function check(texString, display) {
    lastError = null;
    const refused = safety.beforeParse(texString);
    if (refused) return failed(refused);
    // What doc.convert() does, keeping the MathItem: the output jax measures its compiled tree.
    const math = new doc.options.MathItem(texString, tex, display);
    let width = null;
    let bound = null;
    let unsafe = null;
    try {
      math.setMetrics(16, 8, 1e6, 1e6, 1);
      math.convert(doc, mj.STATE.COMPILED);
      // Judged before it is measured: an unsafe formula is refused for that, whatever else.
      unsafe = lastError ? null : safety.afterParse(texString, math.root);
      if (!lastError && !unsafe) {
        bound = bounded(math);
        if (bound === null) width = measure(math);
      }
    } catch (err) {
      return failed(`MathJax internal error: ${err && err.message ? err.message : String(err)}`);
    } finally {
      tex.reset();
      // Map.clear() allocates a new table even for an empty map, and they nearly always are.
      for (const map of definitionMaps) if (map.map.size) map.map.clear();
    }
    // MathJax's own formatError keeps only the first line of a message.
    if (lastError) return failed(lastError.message.replace(/\n.*/s, ''));
    if (unsafe) return failed(unsafe);
    let macro;
    try {
      macro = literalMacroInText(math.root);
    } catch (err) {
      // A formula nested thousands deep overflows the tree walk's stack: an error of that formula.
      if (err instanceof RangeError) return failed('the formula is nested too deeply (MathJax ran out of stack)');
      throw err;
    }
    if (macro) return failed(`${macro} inside \\text{} shows as literal text (Anki's MathJax has no textmacros)`);
    if (bound !== null) return { error: null, width: bound, bound: true };
    return { error: null, width: width === null ? null : Math.round(width * 1000) / 1000 };
  };
}

// Without textmacros, text mode (\text, \textbf, \mbox, ...) understands only $..$, \(..\),
// \$, \{, \}, \\ and \ref: any other macro in it reaches the card as its literal name.
// \verb and \texttt (monospace) show backslashes on purpose.
function literalMacroInText(root) {
  let found = null;
  root.walkTree((node) => {
    if (found || !node.isKind('mtext')) return;
    if (node.attributes.get('mathvariant') === 'monospace') return;
    const match = node.getText().match(/\\[A-Za-z]+/);
    if (match) found = match[0];
  });
  return found;
}
