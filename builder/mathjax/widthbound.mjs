// An upper bound on a formula's CommonHTML width, from its MathML tree alone: no output wrappers,
// no layout. Laying a formula out costs about a third of its check (wrapping every node, then its
// bbox), and most formulas are far narrower than any phone: checker.mjs lays out only the
// formulas whose bound could matter.
//
// widthBound(root) mirrors what MathJax 3.2.2's CommonHTML output adds up (output/common/Wrapper.js
// and Wrappers/*.js), each part taken at its largest:
//   - a character: the widest it is in the variants MathJax may pick (fontwidths.mjs);
//   - a node: its children side by side (a fraction, a stack or a table column: the widest, plus
//     what MathJax puts around them; an mpadded its width; a stretched delimiter its sizes),
//     scaled by its own scriptlevel and mathsize, plus the spacing MathJax gives it (TeX
//     classes, or lspace and rspace);
// and gives up (NaN) on what it does not model: menclose, mglyph, mmultiscripts, labels, spans,
// styles, explicit fonts, a character a variant lacks, a sideways stretch of anything but an mo.
// NaN propagates through every sum and max: one unknown part makes the formula measured exactly.
//
// tests/test_width_bound.py holds the bound to MathJax's own width on every flagship formula, the
// bench's formulas and generated TeX.

import { makeFontWidths } from './fontwidths.mjs';

export function makeWidthBound(output, lengths) {
  const font = output.font;
  const params = font.params;
  const { variantsOf, measureText, delimiterWidth, sizesWidth } = makeFontWidths(font);
  // Of the characters in the subtree walked last, times their scale: what a script or a limit is
  // shifted by (msubsup.js getAdjustedIc: 1.05 ic + 0.05; scriptbase.js getDelta: sk + 0.75 ic).
  let scriptShift = 0;
  let limitShift = 0;

  // lengths.js as a wrapper converts a length; a named space or ems never depend on the scale.
  const fixedLengths = new Map();
  const len = (value, scale, size = 0) => {
    let em = fixedLengths.get(value);
    if (em !== undefined) return em;
    em = lengths.length2em(value, size, scale, output.pxPerEm);
    if (lengths.MATHSPACE[value] || /^\s*[-+]?(\.\d+|\d+(\.\d*)?)em\s*$/.test(value)) fixedLengths.set(value, em);
    return em;
  };

  function textWidth(text, variants, scale, delimiter) {
    const [width, ic, skew] = measureText(text, variants, delimiter);
    scriptShift = Math.max(scriptShift, (1.05 * ic + 0.05) * scale);
    limitShift = Math.max(limitShift, skew * scale);
    return width * scale;
  }

  // The node's scale relative to the formula's font, as CommonWrapper.getScale computes it.
  function scaleOf(node, parentScale) {
    if (node.isInferred) return parentScale;
    const attributes = node.attributes;
    let scale = 1;
    const level = Math.min(attributes.get('scriptlevel'), 2);
    if (level !== 0) {
      scale = Math.pow(attributes.get('scriptsizemultiplier'), level);
      scale = Math.max(scale, len(attributes.get('scriptminsize'), 1, 0.8));
    }
    let mathsize = node.isToken || node.kind === 'mstyle' ? attributes.get('mathsize') : attributes.getInherited('mathsize');
    const fontsize = attributes.get('fontsize');
    if (fontsize && !attributes.getExplicit('mathsize')) mathsize = fontsize;
    if (mathsize !== '1' && mathsize !== 'normal') scale *= len(mathsize, 1, 1); // 'normal': 1
    return scale;
  }

  // The space MathJax puts before and after the node (CommonWrapper.getSpace), in its own ems:
  // its TeX spacing, or, when its operator sets lspace or rspace, MathML spacing (the operator
  // dictionary's for the one it does not set; getMathMLSpacing only ever lowers them).
  function spacing(node, scale) {
    if (!node.hasSpacingAttributes()) {
      const space = node.texSpacing();
      return space ? Math.max(0, len(space, scale)) : 0;
    }
    const mo = node.coreMO();
    const attributes = mo.attributes;
    const left = attributes.isSet('lspace') ? Math.max(0, len(attributes.get('lspace'), scale)) : mo.lspace;
    const right = attributes.isSet('rspace') ? Math.max(0, len(attributes.get('rspace'), scale)) : mo.rspace;
    return Math.max(0, left) + Math.max(0, right);
  }

  // Whether MathJax stretches the node sideways to its siblings' width (scriptbase.js and
  // mtable.js: stretchChildren, stretchColumns): an embellished operator whose core can.
  function stretchesSideways(node) {
    if (!node || !node.isEmbellished) return false;
    const mo = node.coreMO();
    if (mo.kind !== 'mo' || !mo.attributes.get('stretchy')) return false;
    const text = Array.from(mo.getText());
    const delimiter = text.length === 1 && font.getDelimiter(text[0].codePointAt(0));
    return Boolean(delimiter && delimiter.dir === 2);
  }

  // The node's width with its spacing (bbox.w + L + R), in ems of the formula's font.
  function outer(node, parentScale) {
    const attributes = node.attributes;
    if (attributes.getExplicit('style') || attributes.getExplicit('fontfamily')) return NaN;
    const scale = scaleOf(node, parentScale);
    return inner(node, scale) + spacing(node, scale) * scale;
  }

  // Plain loops rather than reduce/map/spread: the walk runs on every formula (the same sums, in
  // the same order).
  const sum = (nodes, scale) => {
    let total = 0;
    for (const child of nodes) total += outer(child, scale);
    return total;
  };

  // The node's own width (bbox.w), in ems of the formula's font.
  function inner(node, scale) {
    switch (node.kind) {
      case 'mi':
      case 'mn':
      case 'mo':
      case 'mtext':
        return token(node, scale);
      case 'mspace':
        return Math.max(0, len(node.attributes.get('width'), scale)) * scale;
      case 'math':
      case 'mrow':
      case 'inferredMrow':
      case 'TeXAtom':
      case 'mstyle':
      case 'mphantom':
      case 'mtd':
        return sum(node.childNodes, scale);
      case 'mfrac':
        return fraction(node, scale);
      case 'msub':
      case 'msup':
      case 'msubsup':
        return scripts(node, scale);
      case 'munder':
      case 'mover':
      case 'munderover':
        return limits(node, scale);
      case 'msqrt': // the surd, then the base; mroot: the index may overlap the surd, or not
      case 'mroot':
        return sum(node.childNodes, scale) + delimiterWidth(0x221a) * scale;
      case 'mtable':
        return table(node, scale);
      case 'mpadded':
        return padded(node, scale);
      default: // menclose, mglyph, maction, semantics, mmultiscripts, ms, merror, ...
        return NaN;
    }
  }

  function token(node, scale) {
    const variants = variantsOf(node);
    if (!variants) return NaN;
    const primes = node.getProperty('primes');
    if (primes) return textWidth(primes, variants, scale, false);
    // mo.js: an accent takes no width unless stretched; only a stretchy mo takes a larger size.
    const isMo = node.kind === 'mo';
    const stretchy = isMo && Boolean(node.attributes.get('stretchy'));
    if (isMo && node.getProperty('mathaccent') && !stretchy) return 0;
    let width = 0;
    for (const child of node.childNodes) {
      if (child.kind !== 'text') return NaN; // mglyph
      width += textWidth(child.getText(), variants, scale, stretchy);
    }
    return width;
  }

  // mpadded.js getDimens: its width (lspace and voffset only move the content), at least 0.
  function padded(node, scale) {
    const content = sum(node.childNodes, scale);
    const width = String(node.attributes.get('width'));
    if (width === '') return content;
    if (/width|height|depth|%/.test(width)) return NaN;
    const own = len(width, scale) + (/^\s*[-+]/.test(width) ? content / scale : 0);
    return Math.max(0, own) * scale;
  }

  function fraction(node, scale) {
    if (node.attributes.get('bevelled')) return NaN;
    const [numerator, denominator] = node.childNodes;
    const widest = Math.max(outer(numerator, scale), outer(denominator, scale));
    return widest + (2 * params.nulldelimiterspace + 0.2) * scale;
  }

  // The base walked alone: its width, and what its characters shift scripts and limits by.
  function walkBase(base, scale) {
    const [scripts, limits] = [scriptShift, limitShift];
    scriptShift = 0;
    limitShift = 0;
    const width = outer(base, scale);
    const shifts = [scriptShift, limitShift];
    scriptShift = Math.max(scripts, shifts[0]);
    limitShift = Math.max(limits, shifts[1]);
    return [width, ...shifts];
  }

  // msubsup.js: the base, extra_ic and its italic correction, the wider script, scriptspace.
  function scripts(node, scale) {
    const [base, ...others] = node.childNodes;
    const [width, shift] = walkBase(base, scale);
    let widest = 0;
    for (const script of others) widest = Math.max(widest, script ? outer(script, scale) : 0);
    return width + shift + widest + (params.extra_ic + params.scriptspace) * scale;
  }

  // munderover.js: the widest of base, under and over, centred and each shifted by at most the
  // base's skew and italic correction (getDelta); or as scripts (movablelimits, not displayed).
  function limits(node, scale) {
    const [base] = node.childNodes;
    const stretchy = node.childNodes.map(stretchesSideways);
    const before = [scriptShift, limitShift];
    [scriptShift, limitShift] = [0, 0];
    const widths = node.childNodes.map((child, i) => (!child || stretchy[i] ? 0 : outer(child, scale)));
    const [scriptsShift, limitsShift] = [scriptShift, limitShift];
    [scriptShift, limitShift] = [Math.max(before[0], scriptShift), Math.max(before[1], limitShift)];
    if (stretchy.some(Boolean)) {
      // Stretched to the widest of the others (scriptbase.js stretchChildren).
      if (stretchy.every(Boolean) || !base) return NaN;
      const widest = Math.max(...widths);
      stretchy.forEach((stretches, i) => {
        if (stretches) widths[i] = stretched(node.childNodes[i], widest, scale);
      });
    }
    if (!node.attributes.get('displaystyle') && base.coreMO().attributes.get('movablelimits')) {
      // Laid out as scripts, a brace or arrow under or over a movable-limits operator (inline
      // \underbrace{\; \max}_x) is stretched otherwise than stretchChildren does: not modelled.
      if (stretchy.some(Boolean)) return NaN;
      const scripts = Math.max(0, ...widths.slice(1));
      return widths[0] + scriptsShift + scripts + (params.extra_ic + params.scriptspace) * scale;
    }
    return Math.max(...widths) + 2 * limitsShift;
  }

  // An mo stretched sideways to `width` (ems of the formula's font), as mo.js getStretchedVariant
  // does: one of its sizes, or an assembly at least that wide, its minimum, or one extender more.
  function stretched(mo, width, parentScale) {
    if (mo.kind !== 'mo' || mo.attributes.getExplicit('minsize') || mo.attributes.getExplicit('maxsize')) return NaN;
    if (mo.attributes.getExplicit('style') || mo.attributes.getExplicit('fontfamily')) return NaN;
    const scale = scaleOf(mo, parentScale);
    const n = mo.getText().codePointAt(0);
    const delimiter = font.getDelimiter(n);
    const [extender, ends] = delimiter.fullExt || [0, 0];
    let own = Math.max(width / parentScale, delimiter.min || 0, ends) + extender;
    own = Math.max(own, sizesWidth(n, delimiter));
    return (own + spacing(mo, scale)) * scale;
  }
  // mtable.js: each column as wide as its widest cell, the column spacing and lines, the frame.
  function table(node, scale) {
    const attributes = node.attributes;
    if (attributes.get('width') !== 'auto' || attributes.get('equalcolumns')) return NaN;
    const columns = [];
    for (const row of node.childNodes) {
      if (row.kind !== 'mtr' || scaleOf(row, scale) !== scale) return NaN; // mlabeledtr: a label
      row.childNodes.forEach((cell, j) => {
        const unusual = cell.attributes.getExplicit('columnspan') || scaleOf(cell, scale) !== scale;
        const width = unusual || stretchesSideways(cell.childNodes[0]) ? NaN : outer(cell, scale);
        columns[j] = Math.max(columns[j] ?? 0, width);
      });
    }
    const listed = (name, count) => {
      const values = String(attributes.get(name) || attributes.getDefault(name)).trim().split(/\s+/);
      const each = [];
      for (let i = 0; i < count; i += 1) each.push(values[Math.min(i, values.length - 1)]);
      return each;
    };
    const between = Math.max(0, columns.length - 1);
    if (listed('columnwidth', columns.length).some((width) => width !== 'auto' && width !== 'fit')) return NaN;
    let width = columns.reduce((total, column) => total + column, 0);
    for (const space of listed('columnspacing', between)) width += Math.max(0, len(space, scale)) * scale;
    for (const line of listed('columnlines', between)) width += (line === 'none' ? 0 : 0.07) * scale;
    if (attributes.get('frame') !== 'none') {
      width += 2 * (0.07 + Math.max(0, len(listed('framespacing', 1)[0], scale))) * scale;
    }
    return width;
  }

  // The bound in ems of the formula's font, or NaN when some part of it is not modelled.
  return function widthBound(root) {
    root.setTeXclass(null); // the TeX classes the spacing depends on (as output.getBBox does)
    scriptShift = 0;
    limitShift = 0;
    return outer(root, 1);
  };
}
