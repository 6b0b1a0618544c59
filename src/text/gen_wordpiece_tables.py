"""Generates the Unicode tables at the bottom of src/text/wordpiece.rs (Python's unicodedata)."""
import unicodedata as u

def ranges(pred, lo=0, hi=0x110000):
    out, start = [], None
    for cp in range(lo, hi):
        ok = pred(cp)
        if ok and start is None:
            start = cp
        if not ok and start is not None:
            out.append((start, cp - 1)); start = None
    if start is not None:
        out.append((start, hi - 1))
    return out

cat = lambda cp: u.category(chr(cp))
def emit_ranges(name, doc, rs):
    print(f"/// {doc}\nconst {name}: &[(u32, u32)] = &[")
    line = "   "
    for a, b in rs:
        item = f" (0x{a:X}, 0x{b:X}),"
        if len(line) + len(item) > 99:
            print(line); line = "   "
        line += item
    print(line + "\n];\n")

emit_ranges("PUNCTUATION", "Unicode general categories P* (Pc Pd Ps Pe Pi Pf Po).",
            ranges(lambda c: cat(c).startswith("P")))
emit_ranges("NONSPACING_MARKS", "Unicode general category Mn.", ranges(lambda c: cat(c) == "Mn"))
emit_ranges("FORMAT_OR_PRIVATE", "Unicode general categories Cf and Co (removed by clean-up).",
            ranges(lambda c: cat(c) in ("Cf", "Co")))

entries = []
for cp in range(0x10000):
    if 0xD800 <= cp < 0xE000 or 0xAC00 <= cp <= 0xD7A3 or 0xF900 <= cp <= 0xFAFF:
        continue
    c = chr(cp)
    if cat(cp) == "Mn":
        continue
    s = "".join(x for x in u.normalize("NFD", c) if u.category(x) != "Mn")
    if s != c:
        entries.append((cp, s))
def lit(s):
    return "".join(ch if ch.isprintable() and ch not in '"\\' and u.category(ch)[0] in "LNS" else f"\\u{{{ord(ch):x}}}" for ch in s)
print("/// Code point → its NFD decomposition without Mn marks, where that differs from the code")
print("/// point (BMP, less Hangul syllables, done arithmetically, and CJK compatibility ideographs).")
print("const STRIPPED: &[(u32, &str)] = &[")
line = "   "
for cp, s in entries:
    item = f' (0x{cp:X}, "{lit(s)}"),'
    if len(line) + len(item) > 99:
        print(line); line = "   "
    line += item
print(line + "\n];")

pairs = []
for lo, hi in ((0xF900, 0xFAFF), (0x2F800, 0x2FA1F)):
    for cp in range(lo, hi + 1):
        d = u.normalize("NFD", chr(cp))
        if d != chr(cp):
            assert len(d) == 1 and u.category(d) != "Mn"
            pairs.append(chr(cp) + d)
print()
print("/// CJK compatibility ideographs and their canonical (unified) ideographs, in pairs.")
print("const CJK_COMPAT: &str = \"\\")
line = ""
for p in pairs:
    if len(line) + 2 > 40:
        print(line + "\\"); line = ""
    line += p
print(line + "\";")
