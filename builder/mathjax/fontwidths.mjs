// Character widths for widthbound.mjs, from MathJax 3.2.2's own font data (the CommonHTML
// output's TeX font): each character at its widest in the variants MathJax may pick for it, with
// its italic correction, through the remappings TextNode.js and mo.js apply (smp, mo, mn,
// accent); a delimiter also at each of its sizes and its assembly. NaN where a variant lacks a
// character: MathJax would measure it as unknown text, which the bound does not model.

export function makeFontWidths(font) {
  const remaps = Object.values(font.remapChars); // mo, mn, accent
  const measured = new Map(); // variant name -> code point -> [width with ic, ic, skew]
  const delimiterWidths = new Map(); // code point -> its widest size or assembly

  // A character in one variant, as TextNode.js finds it: through the variant's math alphanumeric
  // (smp), remapped as an mo, mn or accent may be; NaN when the variant lacks it (MathJax would
  // measure it as unknown text).
  function lookUp(name, n) {
    const variant = font.variant[name];
    let data = variant && variant.chars[n];
    if (data && data[3] && data[3].smp) data = variant.chars[data[3].smp];
    if (!data) return [NaN, NaN, NaN];
    const options = data[3] || {};
    const ic = Math.max(0, options.ic || 0);
    return [data[2] + ic, ic, Math.max(0, options.sk || 0) + 0.75 * ic + Math.abs(options.dx || 0)];
  }

  function charIn(name, n) {
    let byChar = measured.get(name);
    if (!byChar) measured.set(name, (byChar = new Map()));
    let known = byChar.get(n);
    if (known) return known;
    known = lookUp(name, n);
    for (const map of remaps) {
      const text = map[n];
      if (text === undefined) continue;
      let width = 0;
      for (const c of text) {
        const [w, ic, skew] = lookUp(name, c.codePointAt(0));
        width += w;
        known = [known[0], Math.max(known[1], ic), Math.max(known[2], skew)];
      }
      known[0] = Math.max(known[0], width);
    }
    byChar.set(n, known);
    return known;
  }

  // A vertical delimiter stretched (mrow.js, msqrt.js): one of its sizes, or its assembly.
  function delimiterWidth(n) {
    let width = delimiterWidths.get(n);
    if (width !== undefined) return width;
    const delimiter = font.getDelimiter(n);
    width = 0;
    if (delimiter && delimiter.dir === 1) {
      width = Math.max(sizesWidth(n, delimiter), (delimiter.HDW || [0, 0, 0])[2]);
    }
    delimiterWidths.set(n, width);
    return width;
  }

  // The widest of a delimiter's sizes (mo.js getStretchedVariant: size i is its schar[i], or the
  // delimiter's own character, in the size variant the font gives it).
  function sizesWidth(n, delimiter) {
    let width = 0;
    for (let i = 0; i < (delimiter.sizes || []).length; i++) {
      const c = (delimiter.schar && delimiter.schar[i]) || delimiter.c || n;
      width = Math.max(width, charIn(font.getSizeVariant(n, i), c)[0]);
    }
    return width;
  }

  // The variants CommonWrapper.getVariant (and mo.js's) may pick for a token: one set of them,
  // with a cache of the texts measured in it; null: too many to tell.
  const variantSets = new Map(); // mathvariant -> [alone, with -tex-variant]
  const largeOperators = { names: ['-largeop', '-smallop'], texts: new Map() };
  function variantsOf(node) {
    const attributes = node.attributes;
    if (attributes.get('fontweight') || attributes.get('fontstyle')) return null;
    if (node.kind === 'mo' && attributes.get('largeop')) return largeOperators;
    const mathvariant = attributes.get('mathvariant');
    let sets = variantSets.get(mathvariant);
    if (!sets) {
      const set = (names) => ({ names, texts: new Map() });
      sets = [set([mathvariant]), set([mathvariant, '-tex-variant'])];
      variantSets.set(mathvariant, sets);
    }
    return sets[node.kind === 'mo' || node.getProperty('variantForm') ? 1 : 0];
  }

  // A token's text: [width, ic, skew], each the largest of its characters' (`delimiter`: its
  // characters may take a larger size).
  function measureText(text, variants, delimiter) {
    const key = delimiter ? `\u0000${text}` : text;
    let known = variants.texts.get(key);
    if (!known) {
      known = [0, 0, 0];
      for (const c of text) {
        const n = c.codePointAt(0);
        let [w, ic, skew] = [delimiter ? delimiterWidth(n) : 0, 0, 0];
        for (const name of variants.names) {
          const [vw, vic, vskew] = charIn(name, n);
          [w, ic, skew] = [Math.max(w, vw), Math.max(ic, vic), Math.max(skew, vskew)];
        }
        known = [known[0] + w, Math.max(known[1], ic), Math.max(known[2], skew)];
      }
      variants.texts.set(key, known);
    }
    return known;
  }

  return { variantsOf, measureText, delimiterWidth, sizesWidth };
}
