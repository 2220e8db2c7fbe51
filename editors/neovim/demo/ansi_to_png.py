"""Render `tmux capture-pane -e -p` output (text with ANSI colours) to a PNG, for README screenshots.

    tmux capture-pane -e -p -t SESSION > screen.ans
    python ansi_to_png.py screen.ans out.png

Needs Pillow and a monospace TrueType font (DejaVu Sans Mono by default; `--font` to change).
"""

from __future__ import annotations

import argparse
import re
import sys

from PIL import Image, ImageDraw, ImageFont

DEFAULT_FG = (224, 226, 234)  # Neovim 0.10+ default colour scheme (dark)
DEFAULT_BG = (20, 22, 27)
BASE16 = [
    (0, 0, 0), (205, 49, 49), (13, 188, 121), (229, 229, 16), (36, 114, 200), (188, 63, 188), (17, 168, 205), (229, 229, 229),
    (102, 102, 102), (241, 76, 76), (35, 209, 139), (245, 245, 67), (59, 142, 234), (214, 112, 214), (41, 184, 219), (255, 255, 255),
]
SGR = re.compile(r"\x1b\[([0-9;:]*)m")
OTHER_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-ln-z]|\x1b[()][A-Z0-9]")  # all but SGR (ends in m)


def xterm256(n: int) -> tuple[int, int, int]:
    if n < 16:
        return BASE16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return steps[n // 36], steps[(n // 6) % 6], steps[n % 6]
    level = 8 + (n - 232) * 10
    return level, level, level


class Style:
    def __init__(self) -> None:
        self.fg, self.bg, self.bold, self.italic, self.underline, self.reverse = None, None, False, False, False, False

    def apply(self, params: str) -> None:
        codes = [int(p) if p else 0 for p in re.split(r"[;:]", params)] if params else [0]
        i = 0
        while i < len(codes):
            c = codes[i]
            if c == 0:
                self.__init__()
            elif c == 1:
                self.bold = True
            elif c == 3:
                self.italic = True
            elif c == 4:
                self.underline = True
            elif c == 7:
                self.reverse = True
            elif c == 22:
                self.bold = False
            elif c == 23:
                self.italic = False
            elif c == 24:
                self.underline = False
            elif c == 27:
                self.reverse = False
            elif 30 <= c <= 37:
                self.fg = BASE16[c - 30]
            elif 90 <= c <= 97:
                self.fg = BASE16[c - 90 + 8]
            elif 40 <= c <= 47:
                self.bg = BASE16[c - 40]
            elif 100 <= c <= 107:
                self.bg = BASE16[c - 100 + 8]
            elif c == 39:
                self.fg = None
            elif c == 49:
                self.bg = None
            elif c in (38, 48) and i + 1 < len(codes):
                if codes[i + 1] == 5 and i + 2 < len(codes):
                    color = xterm256(codes[i + 2])
                    i += 2
                elif codes[i + 1] == 2 and i + 4 < len(codes):
                    color = (codes[i + 2], codes[i + 3], codes[i + 4])
                    i += 4
                else:
                    color = None
                if c == 38:
                    self.fg = color
                else:
                    self.bg = color
            i += 1

    def colors(self) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
        fg, bg = self.fg or DEFAULT_FG, self.bg or DEFAULT_BG
        return (bg, fg) if self.reverse else (fg, bg)


def render(text: str, font_path: str, size: int, pad: int = 12) -> Image.Image:
    font = ImageFont.truetype(font_path, size)
    bold = ImageFont.truetype(font_path.replace(".ttf", "-Bold.ttf"), size) if "DejaVuSansMono.ttf" in font_path else font
    cell_w = round(font.getlength("M"))
    ascent, descent = font.getmetrics()
    cell_h = ascent + descent + 2
    lines = text.rstrip("\n").split("\n")
    cols = max(len(OTHER_ESCAPE.sub("", SGR.sub("", line))) for line in lines)
    img = Image.new("RGB", (cols * cell_w + 2 * pad, len(lines) * cell_h + 2 * pad), DEFAULT_BG)
    draw = ImageDraw.Draw(img)
    style = Style()
    for row, line in enumerate(lines):
        line = OTHER_ESCAPE.sub("", line)
        col, pos = 0, 0
        for match in list(SGR.finditer(line)) + [None]:
            end = match.start() if match else len(line)
            for ch in line[pos:end]:
                fg, bg = style.colors()
                x, y = pad + col * cell_w, pad + row * cell_h
                draw.rectangle([x, y, x + cell_w, y + cell_h], fill=bg)
                if ch != " ":
                    draw.text((x, y + 1), ch, font=bold if style.bold else font, fill=fg)
                if style.underline:
                    draw.line([x, y + cell_h - 2, x + cell_w, y + cell_h - 2], fill=fg)
                col += 1
            if match:
                style.apply(match.group(1))
                pos = match.end()
    return img


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--font", default="/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")
    p.add_argument("--size", type=int, default=15)
    args = p.parse_args(argv)
    with open(args.input, encoding="utf-8", errors="replace") as f:
        render(f.read(), args.font, args.size).save(args.output, optimize=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
