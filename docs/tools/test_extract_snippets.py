#!/usr/bin/python3
"""Tests of extract-snippets.py: how each marker wraps a block, where includes and context go,
that #line names the Markdown line of each code line, and that a malformed marker becomes an
#error at its own line instead of being ignored."""

import importlib.util
import os
import re
import tempfile
import textwrap
import unittest

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("extract",
                                               os.path.join(_here, "extract-snippets.py"))
extract = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(extract)


class ExtractTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name
        self.include = os.path.join(self.root, "include", "Reqivo")
        os.makedirs(self.include)
        for name in ("Reqivo", "AsyncSession", "Headers", "headers.h"):
            open(os.path.join(self.include, name), "w").close()

    def tearDown(self):
        self.tmp.cleanup()

    def run_on(self, markdown):
        with open(os.path.join(self.root, "doc.md"), "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(markdown).lstrip("\n"))
        return extract.generate(self.root, self.include, ["doc.md"])

    def only_unit(self, markdown):
        units, excluded = self.run_on(markdown)
        self.assertEqual(len(units), 1, units.keys())
        self.assertEqual(excluded, [])
        return next(iter(units.items()))

    def source_line_of(self, unit, needle):
        """The Markdown line #line assigns to the generated line containing needle."""
        current = None
        for text in unit.split("\n"):
            m = re.match(r'#line (\d+) "doc.md"$', text)
            if m:
                current = int(m.group(1))
                continue
            if needle in text:
                self.assertIsNotNone(current, "no #line before " + needle)
                return current
            if current is not None:
                current += 1
        self.fail(needle + " not in the unit")

    def test_default_is_statements_in_a_coroutine(self):
        stem, unit = self.only_unit("""
            Text.

            ```cpp
            auto r = co_await session.get(url);
            qInfo() << r.status();
            ```
            """)
        self.assertEqual(stem, "doc_md_L4")
        self.assertIn("QCoro::Task<> docSnippet()\n{", unit)
        self.assertIn("co_return;\n}", unit)
        self.assertEqual(self.source_line_of(unit, "co_await session.get"), 4)
        self.assertEqual(self.source_line_of(unit, "qInfo()"), 5)
        # The wrapper's own lines after the block name the generated file and their real line.
        lines = unit.split("\n")
        at = lines.index("    co_return;")
        self.assertEqual(lines[at - 1], '#line %d "doc_md_L4.cpp"' % (at + 1))

    def test_includes_go_to_file_scope_and_keep_their_lines(self):
        _, unit = self.only_unit("""
            ```cpp
            #include <Reqivo/Headers>
            using namespace Qt::StringLiterals;
            Reqivo::Headers h;
            ```
            """)
        include = unit.index("#include <Reqivo/Headers>")
        self.assertLess(include, unit.index("docSnippet()"))
        self.assertEqual(self.source_line_of(unit, "#include <Reqivo/Headers>"), 2)
        self.assertEqual(self.source_line_of(unit, "using namespace"), 3)
        self.assertEqual(self.source_line_of(unit, "Reqivo::Headers h;"), 4)
        # A block that names its Reqivo headers gets no others.
        self.assertNotIn("#include <Reqivo/AsyncSession>", unit)

    def test_a_block_without_reqivo_includes_gets_every_header_reqivo_last(self):
        _, unit = self.only_unit("""
            ```c++
            Reqivo::Headers h;
            ```
            """)
        headers = re.findall(r"#include <Reqivo/(\w+)>", unit)
        self.assertEqual(headers, ["AsyncSession", "Headers", "Reqivo"])

    def test_file_mode_keeps_the_block_at_file_scope(self):
        _, unit = self.only_unit("""
            <!-- compile: file -->
            ```cpp
            #include <Reqivo/AsyncSession>
            QCoro::Task<> f() { co_return; }
            ```
            """)
        self.assertNotIn("docSnippet", unit)
        self.assertEqual(self.source_line_of(unit, "QCoro::Task<> f()"), 4)
        self.assertEqual(self.source_line_of(unit, "#include <Reqivo/AsyncSession>"), 3)

    def test_main_mode_and_context(self):
        _, unit = self.only_unit("""
            <!-- compile: main
            QUrl url;
            -->

            ```cpp
            return session.get(url).isSuccess() ? 0 : 1;
            ```
            """)
        self.assertIn("int main(int argc, char **argv)\n{", unit)
        self.assertEqual(self.source_line_of(unit, "QUrl url;"), 2)
        self.assertEqual(self.source_line_of(unit, "return session"), 6)
        self.assertLess(unit.index("QUrl url;"), unit.index("return session"))

    def test_member_mode_runs_in_a_member_with_the_context_before_the_block(self):
        _, unit = self.only_unit("""
            <!-- compile: member
            QPushButton *button = nullptr;
            -->
            ```cpp
            connect(button, &QPushButton::clicked, this, [] {});
            ```
            """)
        self.assertIn("class DocSnippet : public QWidget", unit)
        run = unit.index("QCoro::Task<> DocSnippet::run()\n{")
        context = unit.index("QPushButton *button = nullptr;")
        block = unit.index("connect(button")
        self.assertTrue(run < context < block)
        self.assertEqual(self.source_line_of(unit, "QPushButton *button"), 2)
        self.assertEqual(self.source_line_of(unit, "connect(button"), 5)

    def test_no_with_a_reason_is_excluded_and_listed(self):
        units, excluded = self.run_on("""
            <!-- compile: no: pseudo-code -->
            ```cpp
            get(url) -> response
            ```
            """)
        self.assertEqual(units, {})
        self.assertEqual(excluded, ["doc.md:3: pseudo-code"])

    def test_malformed_markers_are_errors_at_their_line(self):
        cases = {
            "<!-- compile: no -->\n```cpp\nx\n```\n": "needs a reason",
            "<!-- compile: sometimes -->\n```cpp\nx\n```\n": "unknown compile marker",
            "<!-- compile: file extra -->\n```cpp\nx\n```\n": "unexpected text",
            "<!-- compile: file -->\nText between.\n\n```cpp\nx\n```\n": "not followed",
            "<!-- compile: statements -->\n```qml\nItem {}\n```\n": "not C++",
            "<!-- compile: file\nint x;\n": "never closed",
        }
        for markdown, message in cases.items():
            with self.subTest(markdown=markdown):
                units, _ = self.run_on(markdown)
                errors = [u for u in units.values() if "#error" in u]
                self.assertEqual(len(errors), 1, units)
                self.assertIn(message, errors[0])
                self.assertTrue(errors[0].startswith('#line 1 "doc.md"\n#error'), errors[0])

    def test_other_languages_and_indented_fences(self):
        units, excluded = self.run_on("""
            ```sh
            cmake --build build
            ```

            - a list item:

              ```cpp
              int x = 1;
              ```
            """)
        self.assertEqual(list(units), ["doc_md_L8"])
        self.assertIn("\nint x = 1;\n", units["doc_md_L8"])

    def test_q_object_gets_its_moc_file(self):
        _, unit = self.only_unit("""
            <!-- compile: file -->
            ```cpp
            class W : public QObject { Q_OBJECT };
            ```
            """)
        self.assertTrue(unit.endswith('#include "doc_md_L3.moc"\n'))


if __name__ == "__main__":
    unittest.main()
