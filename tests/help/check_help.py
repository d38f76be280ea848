#!/usr/bin/python3
"""check_help.py [ROOT] - checks the help and example patches as a Pd user sees them, without Pd.

For each help patch help-patches/CLASS-help.pd, the methods CLASS accepts are read from its
setup and new functions in externals/*.c (class_addmethod, class_addbang, class_addlist,
class_addfloat, CLASS_MAINSIGNALIN or a signal inlet, arrays of names passed to gensym). Each one must be described in the help's
[pd reference] (a comment that starts with the method's name) and have a live example: a message
box (or a toggle, bang or number box, or a signal object for "signal") connected to a [CLASS]
box somewhere in the help. The help must link every example patch (a message box naming
examples/NAME.pd). In every help and example patch: each subpatch has a one-word name (Pd opens
a "[pd more about x]" at 450x300 whatever its saved size), each window is big enough for what it
holds with 10 px to spare, no two boxes or comments overlap, and no cord crosses a comment. Sizes are estimated with
the metrics of Pd's font size 12 (7 px a character, 16 px a line, comments wrapped at their
width, 60 characters by default). Prints one line per fault; exits 1 if there is any.
"""
import glob
import os
import re
import sys

CW, LH = 7, 16
EDGE = 10  # px left free at a window's right and bottom edge

# inlets/outlets of the objects the patches use, for where a cord starts and ends
IO = {
    'melodynet': (1, 2), 'melodynet~': (2, 4), 'unpack': (1, 3), 'makenote': (3, 2),
    'noteout': (3, 0), 'print': (1, 0), 'mtof~': (1, 1), 'mtof': (1, 1), 'osc~': (2, 1),
    'phasor~': (2, 1), 'lop~': (2, 1), '*~': (2, 1), '+~': (2, 1), '-~': (2, 1),
    'dac~': (2, 0), 'vline~': (3, 1), 'pack': (2, 1), 'moses': (2, 2), '*': (2, 1),
    '+': (2, 1), 'f': (2, 1), 'float': (2, 1), 'sel': (2, 2), 'select': (2, 2),
    'notein': (0, 3), 'stripnote': (2, 2), 'delay': (2, 1), 'del': (2, 1),
    'loadbang': (0, 1), 'symbol': (2, 1), 'pdcontrol': (1, 1), 'r': (0, 1), 's': (1, 0),
    'receive': (0, 1), 'send': (1, 0), 'metro': (2, 1), 'sig~': (1, 1), 'declare': (0, 0),
}


def records(text):
    """the ;-terminated records of a .pd file, escaped semicolons kept"""
    return [r.strip() for r in re.split(r'(?<!\\);\s*\n', text) if r.strip()]


def atoms(s):
    return [a for a in re.split(r'(?<!\\)\s+', s.strip()) if a]


def split_width(ats):
    """strips a trailing ', f N' (box width in characters) and returns (atoms, width)"""
    # the comma before f is an unescaped one, alone or stuck to the last word of the text
    if len(ats) >= 3 and ats[-2] == 'f' and re.fullmatch(r'\d+', ats[-1]):
        if ats[-3] == ',':
            return ats[:-3], int(ats[-1])
        if ats[-3].endswith(',') and not ats[-3].endswith('\\,'):
            return ats[:-3] + [ats[-3][:-1]], int(ats[-1])
    return ats, None


def unescape(a):
    return a.replace('\\,', ',').replace('\\;', ';').replace('\\$', '$')


def wrap(words, width):
    lines, cur = [], ''
    for w in words:
        while len(w) > width:
            if cur:
                lines.append(cur)
                cur = ''
            lines.append(w[:width])
            w = w[width:]
        if not cur:
            cur = w
        elif len(cur) + 1 + len(w) <= width:
            cur += ' ' + w
        else:
            lines.append(cur)
            cur = w
        if cur.endswith(';'):
            lines.append(cur)
            cur = ''
    if cur or not lines:
        lines.append(cur)
    return lines


def display_words(ats):
    """the words Pd shows: commas and semicolons stick to the word before them"""
    out = []
    for a in ats:
        a = unescape(a)
        if a in (',', ';') and out:
            out[-1] += a
        else:
            out.append(a)
    return out


class Box:
    def __init__(self, kind, x, y, ats, width=None):
        self.kind, self.x, self.y, self.atoms, self.width = kind, x, y, ats, width
        self.cls = ats[0] if kind == 'obj' and ats else None
        words = display_words(ats)
        if kind == 'text':
            lines = wrap(words, width or 60)
            self.w = max(len(l) for l in lines) * CW
            self.h = len(lines) * LH
        elif kind == 'msg' or kind == 'obj':
            # a message box breaks its line after each semicolon; boxes wrap at 60 too
            lines = wrap(words, width or 60)
            self.w = (width or max(len(l) for l in lines)) * CW + (9 if kind == 'msg' else 4)
            self.h = len(lines) * LH + 5
        else:
            self.w = self.h = 0
        self.label = ' '.join(words)[:40]

    @property
    def right(self):
        return self.x + self.w

    @property
    def bottom(self):
        return self.y + self.h

    def port(self, k, n, top):
        n = max(n, k + 1)
        x = self.x + (0 if n == 1 else (self.w - 7) * k / (n - 1)) + 3
        return (x, self.y if top else self.y + self.h)


class Canvas:
    def __init__(self, fields, parent=None):
        self.fields = fields
        self.parent = parent
        self.boxes = []
        self.conns = []
        self.children = []
        self.name = None  # set at #X restore

    def all(self):
        yield self
        for c in self.children:
            yield from c.all()


def parse(path):
    with open(path, encoding='utf-8') as f:
        recs = records(f.read())
    root, cur = None, None
    for r in recs:
        ats = atoms(r)
        if ats[:2] == ['#N', 'canvas']:
            c = Canvas(ats[2:], cur)
            if cur is None:
                root = c
            else:
                cur.children.append(c)
            cur = c
        elif ats[0] == '#X' and len(ats) > 1:
            kind = ats[1]
            if kind == 'restore':
                done = cur
                cur = done.parent
                body, width = split_width(ats[4:])
                done.name = ' '.join(body[1:])
                b = Box('obj', int(float(ats[2])), int(float(ats[3])), body, width)
                b.sub = done
                cur.boxes.append(b)
            elif kind in ('obj', 'msg', 'text', 'floatatom', 'symbolatom', 'listbox'):
                body, width = split_width(ats[4:])
                x, y = int(float(ats[2])), int(float(ats[3]))
                if kind == 'obj' and body and body[0] in ('tgl', 'bng', 'cnv', 'nbx', 'hsl',
                                                          'vsl', 'hradio', 'vradio', 'vu'):
                    b = Box('gui', x, y, body)
                    size = int(body[1]) if len(body) > 1 and body[1].isdigit() else 15
                    b.cls = body[0]
                    if body[0] != 'cnv':
                        b.w = b.h = size
                elif kind in ('floatatom', 'symbolatom', 'listbox'):
                    b = Box('gui', x, y, [kind])
                    b.cls = kind
                    b.w, b.h = (int(body[0]) if body and body[0].isdigit() else 5) * CW + 4, 21
                else:
                    b = Box(kind, x, y, body, width)
                cur.boxes.append(b)
            elif kind == 'connect':
                cur.conns.append(tuple(int(a) for a in ats[2:6]))
    return root


def methods_of(root_dir):
    """{class name: set of methods} from the setup functions in externals/*.c"""
    srcs = {p: open(p, encoding='utf-8').read() for p in glob.glob(root_dir + '/externals/*.c')}
    funcs = {}
    for text in srcs.values():
        for m in re.finditer(r'\n(?:static\s+)?\w[\w\s\*]*?\b(\w+)\s*\([^;{)]*\)\s*\{', text):
            start = m.end()
            depth, i = 1, start
            while depth and i < len(text):
                depth += {'{': 1, '}': -1}.get(text[i], 0)
                i += 1
            funcs[m.group(1)] = text[start:i]
    out = {}
    for name, body in funcs.items():
        cm = re.search(r'class_new\s*\(\s*gensym\s*\(\s*"([^"]+)"', body)
        if not cm:
            continue
        bodies = [body]
        # the new function adds the inlets beyond the first
        nm = re.search(r'class_new\s*\(\s*gensym\s*\(\s*"[^"]+"\s*\)\s*,([^,]*),', body)
        if nm:
            ids = re.findall(r'\w+', nm.group(1))
            if ids and ids[-1] in funcs:
                bodies.append(funcs[ids[-1]])
        # helpers called with the class (e.g. methods both classes share)
        for call in re.findall(r'\b(\w+)\s*\(\s*c\s*[,)]', body):
            if call in funcs and call != name:
                bodies.append(funcs[call])
        ms = set()
        for b in bodies:
            for meth, kind in re.findall(
                    r'class_addmethod\s*\([^;]*?gensym\s*\(\s*"([^"]+)"\s*\)([^;]*)\)\s*;', b):
                if 'A_CANT' not in kind:
                    ms.add(meth)
            for arr, items in re.findall(r'(\w+)\s*\[\s*\]\s*=\s*\{([^}]*)\}', b):
                if re.search(r'gensym\s*\(\s*%s\s*\[' % arr, b):
                    ms.update(re.findall(r'"([^"]+)"', items))
            for fn, meth in (('class_addbang', 'bang'), ('class_addlist', 'list'),
                             ('class_addfloat', 'float'), ('class_addsymbol', 'symbol'),
                             ('class_addanything', 'anything'), ('CLASS_MAINSIGNALIN', 'signal')):
                if re.search(r'\b%s\s*\(' % fn, b):
                    ms.add(meth)
            if re.search(r'\bsignalinlet_new\s*\(|\binlet_new\s*\([^;]*&s_signal', b):
                ms.add('signal')
        out[cm.group(1)] = ms
    return out


def message_parts(box):
    """the messages a message box sends to its outlet (not the ;-addressed ones)"""
    parts, cur = [], []
    for a in box.atoms:
        if a in ('\\,', '\\;'):
            parts.append(cur)
            cur = []
            if a == '\\;':
                break
        else:
            cur.append(unescape(a))
    else:
        parts.append(cur)
    return [p for p in parts if p]


def is_number(a):
    return re.fullmatch(r'[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?', a) is not None


def live_methods(root, cls):
    """methods sent to a [cls] box by a message box or a GUI wired to it, anywhere in root"""
    found = set()
    for c in root.all():
        for a, _, b, _ in c.conns:
            if a >= len(c.boxes) or b >= len(c.boxes) or c.boxes[b].cls != cls:
                continue
            src = c.boxes[a]
            if src.kind == 'msg':
                for p in message_parts(src):
                    if is_number(p[0]):
                        found.add('float' if len(p) == 1 else 'list')
                    else:
                        found.add(p[0])
            elif src.cls in ('tgl', 'floatatom', 'nbx', 'hsl', 'vsl', 'hradio', 'vradio'):
                found.add('float')
            elif src.cls == 'bng':
                found.add('bang')
            elif src.cls and src.cls.endswith('~'):
                found.add('signal')
    return found


def reference_words(root):
    for c in root.all():
        if c.name == 'reference':
            return {unescape(b.atoms[0]) for b in c.boxes if b.kind == 'text' and b.atoms}
    return None


def seg_hits(p, q, b, margin=1):
    x0, y0, x1, y1 = b.x - margin, b.y - margin, b.right + margin, b.bottom + margin
    for t in range(1, 100):
        x = p[0] + (q[0] - p[0]) * t / 100
        y = p[1] + (q[1] - p[1]) * t / 100
        if x0 < x < x1 and y0 < y < y1:
            return True
    return False


def layout_faults(path, root):
    faults = []
    name = os.path.basename(path)
    for c in root.all():
        where = name if c is root else '%s [pd %s]' % (name, c.name)
        if c is not root:
            if len(c.fields) != 6:
                faults.append('%s: subpatch name "%s" is not one word: Pd opens it at 450x300'
                              % (name, c.name))
                continue
        w, h = int(c.fields[2]), int(c.fields[3])
        shown = [b for b in c.boxes if b.w and b.cls != 'cnv']
        for b in shown:
            if b.right > w - EDGE or b.bottom > h - EDGE:
                faults.append('%s: "%s" at %d %d reaches %d %d, at or past the edge of the '
                              '%dx%d window' % (where, b.label, b.x, b.y, b.right, b.bottom, w, h))
        for i, a in enumerate(shown):
            for b in shown[i + 1:]:
                if a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom:
                    faults.append('%s: "%s" overlaps "%s"' % (where, a.label, b.label))
        for a, o, b, i in c.conns:
            if a >= len(c.boxes) or b >= len(c.boxes):
                continue
            src, dst = c.boxes[a], c.boxes[b]
            nout = IO.get(src.cls, (1, o + 1))[1]
            nin = IO.get(dst.cls, (i + 1, 1))[0]
            p, q = src.port(o, nout, False), dst.port(i, nin, True)
            for t in c.boxes:
                if t.kind == 'text' and t is not src and t is not dst and seg_hits(p, q, t):
                    faults.append('%s: the cord from "%s" to "%s" crosses the comment "%s"'
                                  % (where, src.label, dst.label, t.label))
    return faults


def main():
    root_dir = sys.argv[1] if len(sys.argv) > 1 else os.getcwd()
    methods = methods_of(root_dir)
    examples = sorted(os.path.basename(p)
                      for p in glob.glob(root_dir + '/help-patches/examples/*.pd'))
    faults = []
    helps = sorted(glob.glob(root_dir + '/help-patches/*-help.pd'))
    if not methods:
        faults.append('no class found in externals/*.c')
    for cls in sorted(methods):
        path = '%s/help-patches/%s-help.pd' % (root_dir, cls)
        if not os.path.exists(path):
            faults.append('%s: no help patch %s' % (cls, path))
            continue
        root = parse(path)
        name = os.path.basename(path)
        ref = reference_words(root)
        live = live_methods(root, cls)
        if ref is None:
            faults.append('%s: no [pd reference] subpatch' % name)
            ref = set()
        for m in sorted(methods[cls]):
            if m not in ref:
                faults.append('%s: [pd reference] does not describe "%s"' % (name, m))
            if m not in live:
                faults.append('%s: no live example sends "%s" to a [%s] box' % (name, m, cls))
        linked = set()
        for c in root.all():
            for b in c.boxes:
                if b.kind == 'msg':
                    linked.update(a for p in message_parts(b) for a in p)
        for e in examples:
            if e not in linked:
                faults.append('%s: no message box links the example %s' % (name, e))
    for path in helps + sorted(glob.glob(root_dir + '/help-patches/examples/*.pd')):
        faults += layout_faults(path, parse(path))
    for f in faults:
        print(f)
    n = len(helps) + len(examples)
    print('help checks: %d patches, %d classes, %d methods: %s' % (
        n, len(methods), sum(len(v) for v in methods.values()),
        '%d faults' % len(faults) if faults else 'all passed'))
    return 1 if faults else 0


if __name__ == '__main__':
    sys.exit(main())
