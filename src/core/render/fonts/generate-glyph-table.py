#!/usr/bin/env python3
"""Regenerates glyphs.json: DejaVu Sans / Bold glyph metrics and outlines exactly as matplotlib's
Agg backend sees them (FreeType through matplotlib's FT2Font, hinting_factor 8, force_autohint,
dpi 80), for the four text styles of the Spec-o3 plotting recipe.

Why a table and not the TTF at run time: matplotlib lays text out with *hinted* FreeType metrics
(advances rounded at 8x horizontal resolution, heights snapped to the pixel grid). Those decide the
tight layout and the tight bounding box to the pixel, and only FreeType's autohinter produces them.
The table is derived from the TTFs shipped in node_modules/dejavu-fonts-ttf, so the output does not
depend on fonts installed on any machine.

Usage (needs Debian's python3-matplotlib, any 3.x):  /usr/bin/python3 generate-glyph-table.py
"""
import hashlib
import json
import os
from matplotlib.ft2font import FT2Font, LOAD_FORCE_AUTOHINT, KERNING_DEFAULT

HERE = os.path.dirname(os.path.abspath(__file__))
TTF = os.path.join(HERE, '../../../../node_modules/dejavu-fonts-ttf/ttf')
DPI = 80

ascii_ = [chr(c) for c in range(0x20, 0x7F)]
extra_small = ['Å', 'λ', '\u2212', '\u00a0']
wide = (ascii_ + [chr(c) for c in range(0xA0, 0x180)] + [chr(c) for c in range(0x391, 0x3CA)]
        + [chr(c) for c in range(0x2010, 0x2027)] + [chr(c) for c in range(0x2030, 0x203B)]
        + [chr(c) for c in range(0x2070, 0x208F)]
        + list('\u2212\u2248\u2260\u2264\u2265\u221e\u00b1\u2192\u2190\u212b\u2103\u2116\u2122\u03bb'))

STYLES = {
    # key: (file, size in points, characters)
    'regular-9': ('DejaVuSans.ttf', 9, ascii_ + extra_small),
    'regular-10': ('DejaVuSans.ttf', 10, ascii_ + extra_small),
    'bold-12': ('DejaVuSans-Bold.ttf', 12, ascii_ + extra_small),
    'bold-14': ('DejaVuSans-Bold.ttf', 14, wide),
}

MOVETO, LINETO, CURVE3, CURVE4, CLOSEPOLY = 1, 2, 3, 4, 79


def outline(font):
    """SVG path data of the loaded (hinted) glyph in 1/64 px, y up."""
    verts, codes = font.get_path()
    out, i = [], 0
    def p(k):
        return '%d %d' % (round(verts[k][0] * 64), round(verts[k][1] * 64))
    while i < len(codes):
        c = codes[i]
        if c == MOVETO:
            out.append('M' + p(i)); i += 1
        elif c == LINETO:
            out.append('L' + p(i)); i += 1
        elif c == CURVE3:
            out.append('Q' + p(i) + ' ' + p(i + 1)); i += 2
        elif c == CURVE4:
            out.append('C' + p(i) + ' ' + p(i + 1) + ' ' + p(i + 2)); i += 3
        elif c == CLOSEPOLY:
            out.append('Z'); i += 1
        else:
            i += 1
    return ''.join(out)


def style_table(fname, size, chars):
    font = FT2Font(os.path.join(TTF, fname), hinting_factor=8)
    font.set_size(size, DPI)
    glyphs = {}
    index = {}
    for ch in dict.fromkeys(chars):
        gi = font.get_char_index(ord(ch))
        if gi == 0:
            continue
        index[ch] = gi
        # Advance as set_text applies it (transformed, hinted): pen position of a second copy.
        xys = font.set_text(ch + ch, 0.0, flags=LOAD_FORCE_AUTOHINT)
        advance = int(round(xys[1][0])) - font.get_kerning(gi, gi, KERNING_DEFAULT)
        g = font.load_char(ord(ch), flags=LOAD_FORCE_AUTOHINT)
        xmin, ymin, xmax, ymax = g.bbox
        glyphs[ch] = [advance, xmin, ymin, xmax, ymax, outline(font)]
    kern = {}
    for a, ga in index.items():
        for b, gb in index.items():
            k = font.get_kerning(ga, gb, KERNING_DEFAULT)
            if k:
                kern[a + b] = k
    with open(os.path.join(TTF, fname), 'rb') as f:
        sha256 = hashlib.sha256(f.read()).hexdigest()
    return {'file': fname, 'sha256': sha256, 'size': size, 'glyphs': glyphs, 'kern': kern}


def main():
    table = {'dpi': DPI, 'hintingFactor': 8, 'styles': {k: style_table(*v) for k, v in STYLES.items()}}
    with open(os.path.join(HERE, 'glyphs.json'), 'w', encoding='utf-8') as f:
        json.dump(table, f, ensure_ascii=False, separators=(',', ':'))


if __name__ == '__main__':
    main()
