#!/usr/bin/python3
"""Turns every C++ code block of the given Markdown files into a translation unit.

    extract-snippets.py --root <source dir> --include-dir <include/Reqivo> --out <dir> FILE.md...

Writes <out>/<file>_L<line>.cpp for each block to compile, <out>/sources.txt (one path a line)
and <out>/excluded.txt ("<file>:<line>: <reason>" for each block marked `compile: no`). Files
are rewritten only when their text changes, and stale ones are removed, so a rebuild compiles
only what changed. The convention is documented in docs/README.md ("Code blocks are
compiled"); in short, an HTML comment right before a ```cpp fence says how to compile it:

    <!-- compile: statements -->  the block is the body of a coroutine (the default)
    <!-- compile: main -->        the body of int main(int argc, char **argv)
    <!-- compile: member -->      the body of a coroutine member of a QWidget subclass
    <!-- compile: file -->        a whole source file (declarations and definitions)
    <!-- compile: no: reason -->  not compiled, for the reason given

Lines after `compile: <mode>` up to `-->` are context: declarations the block takes as given
(file-scope code in `file` mode, statements before the block in the function otherwise).
`#line` directives make the compiler name the Markdown file and line. A malformed marker
becomes a translation unit with an #error at the marker's line.
"""

import argparse
import os
import re
import sys

CPP_LANGS = {"cpp", "c++", "cxx", "cc"}
MODES = {"statements", "main", "member", "file", "no"}
MARKER_START = re.compile(r"^\s*<!--\s*compile:(?P<rest>.*)$")
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^\s`]*)")
INCLUDE = re.compile(r"^\s*#\s*include\b")
REQIVO_INCLUDE = re.compile(r"^\s*#\s*include\s*[<\"]Reqivo/")


class Marker:
    def __init__(self, line, spec, context, context_line):
        self.line = line  # line of "<!-- compile:"
        self.context = context  # lines between the first line and "-->"
        self.context_line = context_line  # line of the first context line
        self.mode = None
        self.reason = ""
        self.error = None
        words = spec.strip()
        mode = re.match(r"[a-z]+", words)
        if not mode or mode.group(0) not in MODES:
            self.error = ("unknown compile marker '%s' (expected one of: %s)"
                          % (words, ", ".join(sorted(MODES))))
            return
        self.mode = mode.group(0)
        rest = words[mode.end():]
        if self.mode == "no":
            self.reason = re.sub(r"^[\s:,;(\u2014\u2013-]+", "", rest).rstrip(" )").strip()
            if not self.reason:
                self.error = "'compile: no' needs a reason, e.g. <!-- compile: no: pseudo-code -->"
        elif rest.strip():
            self.error = "unexpected text after 'compile: %s': '%s'" % (self.mode, rest.strip())


class Block:
    def __init__(self, path, line, lines, marker):
        self.path = path  # relative to the root, with '/'
        self.line = line  # line of the block's first code line
        self.lines = lines
        self.marker = marker


class ParseError:
    def __init__(self, path, line, message):
        self.path, self.line, self.message = path, line, message


def parse(path, text):
    """Returns the C++ blocks of one Markdown file and the errors found in its markers."""
    blocks, errors = [], []
    lines = text.split("\n")
    pending = None
    i = 0
    while i < len(lines):
        line = lines[i]
        number = i + 1
        start = MARKER_START.match(line)
        if start:
            if pending:
                errors.append(ParseError(path, pending.line, "compile marker not followed by a "
                                         "code block"))
            rest = start.group("rest")
            context, context_line = [], number + 1
            if "-->" in rest:
                spec = rest.split("-->", 1)[0]
            else:
                spec = rest
                i += 1
                while i < len(lines) and "-->" not in lines[i]:
                    context.append(lines[i])
                    i += 1
                if i == len(lines):
                    errors.append(ParseError(path, number, "compile marker never closed (-->)"))
                    break
                before = lines[i].split("-->", 1)[0]
                if before.strip():
                    context.append(before)
            pending = Marker(number, spec, context, context_line)
            i += 1
            continue
        fence = FENCE.match(line)
        if fence:
            indent = len(fence.group("indent"))
            char, length = fence.group("fence")[0], len(fence.group("fence"))
            lang = fence.group("info").lower()
            body, j = [], i + 1
            closing = re.compile(r"^ {0,3}%s{%d,}\s*$" % (re.escape(char), length))
            while j < len(lines) and not closing.match(lines[j]):
                body.append(lines[j][indent:] if lines[j][:indent].strip() == "" else lines[j])
                j += 1
            if j == len(lines):
                errors.append(ParseError(path, number, "code block never closed"))
            if lang in CPP_LANGS:
                blocks.append(Block(path, number + 1, body, pending))
            elif pending and pending.mode not in (None, "no"):
                errors.append(ParseError(path, pending.line, "'compile: %s' before a block that "
                                         "is not C++ (```%s)" % (pending.mode, lang)))
            pending = None
            i = j + 1
            continue
        if pending and line.strip():
            errors.append(ParseError(path, pending.line, "compile marker not followed by a "
                                     "code block"))
            pending = None
        i += 1
    if pending:
        errors.append(ParseError(path, pending.line, "compile marker not followed by a code block"))
    return blocks, errors


def quoted(path):
    return '"%s"' % path.replace("\\", "\\\\").replace('"', '\\"')


def line_directive(number, path):
    return "#line %d %s" % (number, quoted(path))


def all_headers(include_dir):
    """Every CamelCase forwarding header, <Reqivo/Reqivo> last: its class named Reqivo would hide
    the namespace in a header included after it."""
    names = sorted(n for n in os.listdir(include_dir)
                   if "." not in n and os.path.isfile(os.path.join(include_dir, n)))
    if "Reqivo" in names:
        names.remove("Reqivo")
        names.append("Reqivo")
    return ["#include <Reqivo/%s>" % n for n in names]


def translation_unit(block, include_dir, stem):
    marker = block.marker
    mode = marker.mode if marker else "statements"
    context = marker.context if marker else []
    context_line = marker.context_line if marker else block.line
    out = ["// Generated by docs/tools/extract-snippets.py from %s:%d. Edit the Markdown, not "
           "this file." % (block.path, block.line),
           '#include "snippet-prelude.h"']
    if mode in ("statements", "member"):
        out.append("#include <QCoro/QCoroTask> // the wrapper's coroutine")
    code = list(block.lines)
    ctx = list(context)
    if not any(REQIVO_INCLUDE.match(l) for l in code + ctx):
        out.append("// The block includes no Reqivo header: every public one.")
        out.extend(all_headers(include_dir))
    if mode != "file":
        # Includes go to file scope; blank lines keep the line numbers.
        for offset, text in enumerate(ctx):
            if INCLUDE.match(text):
                out += [line_directive(context_line + offset, block.path), text]
                ctx[offset] = ""
        for offset, text in enumerate(code):
            if INCLUDE.match(text):
                out += [line_directive(block.line + offset, block.path), text]
                code[offset] = ""

    def context_part():
        return [line_directive(context_line, block.path)] + ctx if ctx else []

    body = [line_directive(block.line, block.path)] + code

    def wrapper_lines(lines):
        # After the block, messages about the wrapper's own lines name the generated file.
        return [line_directive(len(out) + 2, stem + ".cpp")] + lines
    if mode == "file":
        out += context_part() + body
    elif mode == "main":
        out += ["int main(int argc, char **argv)", "{"] + context_part() + body
        out += wrapper_lines(["}"])
    elif mode == "statements":
        out += ["QCoro::Task<> docSnippet()", "{"] + context_part() + body
        out += wrapper_lines(["    co_return;", "}"])
    elif mode == "member":
        out += ["class DocSnippet : public QWidget", "{", "public:", "    QCoro::Task<> run();"]
        out += ["};", "", "QCoro::Task<> DocSnippet::run()", "{"] + context_part() + body
        out += wrapper_lines(["    co_return;", "}"])
    if any("Q_OBJECT" in l for l in code + ctx):
        out += wrapper_lines(['#include "%s.moc"' % stem])
    return "\n".join(out) + "\n"


def error_unit(path, line, message):
    return "%s\n#error %s\n" % (line_directive(line, path), quoted(message))


def stem_for(path, line):
    return "%s_L%d" % (re.sub(r"[^A-Za-z0-9]+", "_", path), line)


def write_if_changed(path, text):
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        pass
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def generate(root, include_dir, files):
    """Returns ({stem: translation unit text}, [excluded "path:line: reason"])."""
    units, excluded = {}, []
    for name in files:
        full = name if os.path.isabs(name) else os.path.join(root, name)
        rel = os.path.relpath(full, root).replace(os.sep, "/")
        with open(full, encoding="utf-8") as f:
            blocks, errors = parse(rel, f.read())
        for e in errors:
            units[stem_for(rel, e.line) + "_marker"] = error_unit(rel, e.line, e.message)
        for b in blocks:
            stem = stem_for(rel, b.line)
            if b.marker and b.marker.error:
                units[stem] = error_unit(rel, b.marker.line, b.marker.error)
            elif b.marker and b.marker.mode == "no":
                excluded.append("%s:%d: %s" % (rel, b.line, b.marker.reason))
            else:
                units[stem] = translation_unit(b, include_dir, stem)
    return units, excluded


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", required=True, help="source directory (paths are shown "
                        "relative to it)")
    parser.add_argument("--include-dir", required=True, help="include/Reqivo")
    parser.add_argument("--out", required=True, help="directory for the translation units")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args(argv)

    units, excluded = generate(args.root, args.include_dir, args.files)
    os.makedirs(args.out, exist_ok=True)
    sources = []
    for stem, text in sorted(units.items()):
        path = os.path.join(args.out, stem + ".cpp")
        write_if_changed(path, text)
        sources.append(path)
    for name in os.listdir(args.out):
        if name.endswith(".cpp") and os.path.join(args.out, name) not in sources:
            os.remove(os.path.join(args.out, name))
    write_if_changed(os.path.join(args.out, "sources.txt"), "".join(s + "\n" for s in sources))
    write_if_changed(os.path.join(args.out, "excluded.txt"), "".join(e + "\n" for e in excluded))
    print("%d C++ blocks to compile, %d excluded" % (len(sources), len(excluded)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
