// Which TeX may reach a learner's Anki: nothing that carries a link, a style, a class, an id or
// a URL. Anki's MathJax loads every TeX package, so `\href{javascript:...}` is a live link,
// `\style{position:fixed;background:url(https://...)}` a full-screen overlay that fetches a
// tracker, and `\class{cloze}` / `\cssId{answer}` spoof Anki's own page.
//
// check.mjs asks two things of every formula:
//   1. the verdict, from the parsed internal MathML tree: every attribute a formula puts on a
//      node is judged (href, style, class, id, data-*, fonts, colours, anything holding
//      url(...)), so a macro reached through an alias (\let\h\href, \def, \newcommand) is
//      caught too;
//   2. the reason, from the macro tables MathJax really loads in Anki's configuration
//      (enumerated from the TeX input's handlers, not from a hand-written list): the author
//      reads "\href makes a link", not only an attribute name.
//
// `\require` is rejected by name: Anki loads the require package (the checker cannot: it needs
// MathJax's component loader), and on a card it can load any package, html included.

import { createRequire } from 'node:module';
import { join } from 'node:path';

import { ROOT } from './modules.mjs';

const mathjaxRequire = createRequire(join(ROOT, 'package.json'));

// What each dangerous parse method does and which attributes it makes (null: any), keyed by the
// method objects MathJax maps macros to: a macro is dangerous when its entry points at one.
function dangerousMethods() {
  const html = mathjaxRequire('mathjax-full/js/input/tex/html/HtmlMethods.js').default;
  const base = mathjaxRequire('mathjax-full/js/input/tex/base/BaseMethods.js').default;
  const { BboxMethods } = mathjaxRequire('mathjax-full/js/input/tex/bbox/BboxConfiguration.js');
  const { UnicodeMethods } = mathjaxRequire('mathjax-full/js/input/tex/unicode/UnicodeConfiguration.js');
  const { RequireMethods } = mathjaxRequire('mathjax-full/js/input/tex/require/RequireConfiguration.js');
  const does = (reason, ...attributes) => ({ reason, attributes: attributes.length ? new Set(attributes) : null, unseen: false });
  return new Map([
    [html.Href, does('makes a link', 'href')],
    [html.Class, does("sets a CSS class (it can pose as Anki's own, e.g. cloze)", 'class')],
    [html.Style, does('sets CSS styles (an overlay, a remote url(...))', 'style')],
    [html.Id, does("sets an element id (it can pose as Anki's own)", 'id')],
    [base.MmlToken, does('sets MathML attributes (links, styles, classes, ids, fonts)')],
    [BboxMethods.BBox, does('with CSS sets styles (an overlay, a remote url(...))', 'style', 'mathbackground')],
    [UnicodeMethods.Unicode, does('with a font sets a CSS font family', 'fontfamily')],
    // Refused unseen: what it loads on the card is out of reach of the tree the checker sees.
    [RequireMethods.Require, { reason: 'loads TeX packages on the card (html among them), out of reach of this check', attributes: new Set(), unseen: true }],
  ]);
}

// Macro name -> {reason, attributes}, from every macro table the TeX input consults
// (parseOptions' 'macro' handler), plus the require package's table: Anki loads it, the
// checker cannot.
export function dangerousMacros(tex) {
  const methods = dangerousMethods();
  const { MapHandler } = mathjaxRequire('mathjax-full/js/input/tex/MapHandler.js');
  const handler = tex.parseOptions.handlers.get('macro');
  const tables = [...handler._configuration].map(({ item }) => item);
  const requireTable = MapHandler.getMap('require');
  if (requireTable && !tables.includes(requireTable)) tables.push(requireTable);
  const found = new Map();
  for (const table of tables) {
    for (const [name, entry] of table.map) {
      const danger = entry && methods.get(entry.func);
      if (danger && !found.has(name)) found.set(name, danger);
    }
  }
  return found;
}

// Colours (\color, \colorbox, \bbox's background) reach CSS as they are written: only a name or
// a hex value is a colour; anything else (`red;background:url(...)`) is CSS injection.
const COLOUR = /^(?:[a-z]+|#[0-9a-f]{3,8})$/i;
const COLOUR_ATTRIBUTES = new Set(['mathcolor', 'mathbackground', 'color', 'background']);
// \fcolorbox's frame is the only style plain TeX makes: `border: 2px solid <colour>`.
const FCOLORBOX_STYLE = /^border: \d+(?:\.\d+)?(?:px|pt|em|ex)? solid (?:[a-z]+|#[0-9a-f]{3,8})$/i;
const WHAT_ATTRIBUTES_DO = {
  href: 'a link',
  class: 'a CSS class',
  id: 'an element id',
  style: 'CSS styles',
  fontfamily: 'a CSS font family',
};
const URL_LIKE = /url\s*\(|javascript:|vbscript:|expression\s*\(|@import/i;

// The first attribute in the formula's internal MathML that could carry script, tracking or
// spoofing, as `name="value"` with what it does; null when there is none.
export function unsafeAttribute(root, policy) {
  let found = null;
  root.walkTree((node) => {
    if (found) return;
    const attributes = node.attributes.getAllAttributes();
    for (const name of Object.keys(attributes)) { // most nodes have none: no [name, value] pairs made
      const value = String(attributes[name]);
      const what = attributeProblem(name.toLowerCase(), value, policy);
      if (what) {
        found = { name, value, what };
        return;
      }
    }
  });
  return found;
}

// MathJax's own equation numbers: \label{x} puts id="mjx-eqn:x" on the numbered row, \ref and
// \eqref make an in-page link (href="#" until typeset) of class MathJax_ref. The prefix keeps
// them from posing as Anki's ids.
const OWN_ATTRIBUTES = {
  id: /^mjx-eqn:/,
  href: /^#(?:mjx-eqn[:%]|$)/,
  class: /^MathJax_ref$/,
};

function attributeProblem(name, value, policy) {
  if (OWN_ATTRIBUTES[name] && OWN_ATTRIBUTES[name].test(value) && !URL_LIKE.test(value)) return null;
  if (name === 'href' && policy.httpsLinks && isHttpsUrl(value)) return null;
  if (name === 'style' && FCOLORBOX_STYLE.test(value.trim())) return null;
  if (name in WHAT_ATTRIBUTES_DO) return WHAT_ATTRIBUTES_DO[name];
  if (name.startsWith('data-') || name.startsWith('on') || name.includes(':')) return 'a page attribute';
  if (COLOUR_ATTRIBUTES.has(name) && !COLOUR.test(value.trim())) return 'CSS that is not a colour';
  if (URL_LIKE.test(value)) return 'a URL';
  return null;
}

function isHttpsUrl(value) {
  return /^https:\/\/[^\s"'<>\\`]+$/i.test(value) && !URL_LIKE.test(value);
}

// `\name` control sequences written in the TeX, in order. An alias (\let\h\href) still names
// its target, and deck macros are expanded before the check; a formula that names no dangerous
// macro but makes such an attribute anyway is refused for the attribute.
function controlSequences(tex) {
  return [...tex.matchAll(/\\([A-Za-z]+|.)/gs)].map((match) => match[1]);
}

// The verdict of the safety wall, or null. The message names the macro responsible when the
// TeX names one that makes such an attribute, else the attribute itself (an alias).
export function makeSafetyCheck(tex, policy = {}) {
  const macros = dangerousMacros(tex);
  // `\name` as written, for each macro refused unseen: TeX without any of them names none, and is
  // not split into control sequences (1% of a formula's CPU).
  const unseen = [...macros].filter(([, danger]) => danger.unseen).map(([name]) => `\\${name}`);
  return {
    // Before parsing: \require acts outside the formula and the checker cannot load it.
    beforeParse(texString) {
      if (!unseen.some((written) => texString.includes(written))) return null;
      const name = controlSequences(texString).find((cs) => macros.get(cs)?.unseen);
      return name ? unsafeMessage(name, macros.get(name).reason) : null;
    },
    afterParse(texString, root) {
      const attribute = unsafeAttribute(root, policy);
      if (!attribute) return null;
      const shown = `${attribute.name}="${shorten(attribute.value)}"`;
      const rule = attribute.name === 'href' && policy.httpsLinks ? ' (deck.yaml allows https: links only)' : '';
      const name = responsibleMacro(controlSequences(texString), macros, attribute.name);
      if (name) return unsafeMessage(name, `${macros.get(name).reason}: ${shown}${rule}`);
      return `unsafe TeX: it puts ${attribute.what} on the formula: ${shown}${rule}`;
    },
  };
}

// A macro made for this one attribute (\style for style) before one that can also make it
// (\bbox, \mmlToken): `\bbox[yellow]{a} \style{...}{b}` blames \style.
function responsibleMacro(names, macros, attribute) {
  const only = names.find((name) => macros.get(name)?.attributes?.size === 1 && macros.get(name).attributes.has(attribute));
  return only || names.find((name) => {
    const danger = macros.get(name);
    return danger && (danger.attributes === null || danger.attributes.has(attribute));
  });
}

// The deck's policy (deck.yaml `tex_links`), handed down by mathdeck in the environment so that
// every worker thread sees it: https = \href may link to https: addresses.
export function policyFromEnvironment() {
  return { httpsLinks: process.env.MATHDECK_TEX_LINKS === 'https' };
}

function unsafeMessage(name, reason) {
  return `unsafe TeX: \\${name} ${reason}`;
}

function shorten(value, limit = 60) {
  return value.length <= limit ? value : `${value.slice(0, limit - 1)}…`;
}
