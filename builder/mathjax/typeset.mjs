// Typeset TeX to static SVG with MathJax 3, as Anki's MathJax reads it, for pages without
// JavaScript (`mathdeck export html`: opens instantly, prints to PDF from any tool).
//
//   stdin:  [{"tex": "\\frac{a}{b}", "display": true}, ...]
//   stdout: {"formulas": ["<mjx-container ...>", ...], "defs": "<svg ...>", "css": "...", "errors": [i, ...]}
//
// `defs` is the glyph cache shared by every formula (fontCache: 'global'): put it in the page
// once, before the formulas that <use> its paths. `errors` lists the formulas MathJax could not
// parse (noerrors shows them as their source, as Anki would).
//
// The page promises no script and nothing fetched. `mathdeck export html` runs the check first
// (safety.mjs refuses every link, style, class, id and URL); MathJax's own `safe` extension is
// the second wall here: no link (but https: ones when MATHDECK_TEX_LINKS=https, deck.yaml
// `tex_links: https`), no class, no id, only MathJax's safe styles.
// Exit codes: 0 ok, 2 bad input, 3 mathjax-full is not installed (run `npm ci`).

import { createRequire } from 'node:module';
import { join } from 'node:path';

import { loadMathJax, ROOT } from './modules.mjs';

const { SafeHandler } = createRequire(join(ROOT, 'package.json'))('mathjax-full/js/ui/safe/SafeHandler.js');

// The safe extension leaves colours and fonts alone: a colour reaches SVG as `fill="..."`, where
// url(...) names a paint server, and a font family is CSS. Only a colour name or a hex value,
// and no font family, get through (the check refuses the rest first).
const COLOUR = /^(?:[a-z]+|#[0-9a-f]{3,8})$/i;

function filterColoursAndFonts(safe) {
  safe.filterMethods.filterColour = (_, value) => (COLOUR.test(String(value).trim()) ? value : null);
  safe.filterMethods.filterFont = () => null;
  for (const name of ['mathcolor', 'mathbackground', 'color', 'background']) safe.filterAttributes.set(name, 'filterColour');
  safe.filterAttributes.set('fontfamily', 'filterFont');
}

function safeOptions() {
  const httpsLinks = process.env.MATHDECK_TEX_LINKS === 'https';
  return {
    allow: { URLs: httpsLinks ? 'safe' : 'none', classes: 'none', cssIDs: 'none', styles: 'safe' },
    safeProtocols: { http: false, https: httpsLinks, file: false, javascript: false, data: false },
  };
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function typesetAll(items) {
  const mj = loadMathJax();
  const adaptor = mj.liteAdaptor();
  SafeHandler(mj.RegisterHTMLHandler(adaptor));
  // Anki's TeX input: every package but textmacros (\text{} content stays literal).
  const packages = mj.AllPackages.filter((name) => name !== 'textmacros');
  const tex = new mj.TeX({ packages });
  const svg = new mj.SVG({ fontCache: 'global' });
  const doc = mj.mathjax.document('', { InputJax: tex, OutputJax: svg, safeOptions: safeOptions() });
  filterColoursAndFonts(doc.safe);
  const formulas = [];
  const errors = [];
  items.forEach((item, index) => {
    const node = doc.convert(item.tex, { display: Boolean(item.display) });
    // No assistive MathML in a static page: a screen reader reads the TeX instead.
    // (liteAdaptor escapes only the quote in attributes, so & is escaped here.)
    adaptor.setAttribute(adaptor.firstChild(node), 'aria-label', item.tex.replace(/&/g, '&amp;'));
    const html = adaptor.outerHTML(node);
    if (html.includes('data-mml-node="merror"')) errors.push(index);
    // MathJax's data-* bookkeeping is a third of the bytes and nothing reads it in a static
    // page; data-mml-node="merror" stays, so a broken formula can still be found.
    formulas.push(html.replace(/ data-(?:mml-node="(?!merror")|c="|mjx-texclass=")[^"]*"/g, ''));
  });
  return {
    formulas,
    errors,
    defs: adaptor.outerHTML(svg.pageElements(doc)),
    css: adaptor.textContent(svg.styleSheet(doc)),
  };
}

async function main() {
  let items;
  try {
    items = await readStdin();
    if (!Array.isArray(items) || items.some((item) => typeof item?.tex !== 'string')) {
      throw new Error('expected [{"tex": string, "display": bool}, ...]');
    }
  } catch (err) {
    process.stderr.write(`typeset.mjs: bad input: ${err.message}\n`);
    process.exitCode = 2;
    return;
  }
  process.stdout.write(JSON.stringify(typesetAll(items)));
}

main();
