// Reqivo::Headers: an ordered, ASCII case-insensitive multimap of fields with value semantics.
// What matters most: duplicates stay separate and in order (Set-Cookie must never be joined,
// RFC 9110 §5.3), a copy is independent of the original however it is modified, and the
// methods that take views accept views into the same object even though appending may move
// the bytes those views point at.
#include <Reqivo/Headers>

#include <QTest>

using Reqivo::Headers;

namespace {
using FieldList = QList<std::pair<QByteArray, QByteArray>>;
}

class TestHeaders : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void emptyHeaders();
    void addKeepsOrderAndDuplicates();
    void lookupIgnoresAsciiCaseOnly_data();
    void lookupIgnoresAsciiCaseOnly();
    void valueDefault();
    void setReplacesAtTheFirstPlace_data();
    void setReplacesAtTheFirstPlace();
    void removeReturnsTheCount();
    void combinedValue_data();
    void combinedValue();
    void setCookieIsNeverJoined();
    void hasToken_data();
    void hasToken();
    void appendAndClear();
    void copiesAreIndependent_data();
    void copiesAreIndependent();
    void viewsIntoItself();
    void manyRemovalsKeepValuesIntact();
    void iteration();
    void equality_data();
    void equality();
    void fromArena();
    void debugPrinting();
    void metaType();
};

void TestHeaders::emptyHeaders()
{
    const Headers h;
    QVERIFY(h.isEmpty());
    QCOMPARE(h.size(), 0);
    QVERIFY(!h.contains("Host"));
    QVERIFY(h.value("Host").isNull());
    QVERIFY(h.values("Host").isEmpty());
    QVERIFY(h.combinedValue("Host").isEmpty());
    QVERIFY(!h.hasToken("Connection", "close"));
    QVERIFY(h.begin() == h.end());
    QVERIFY(h.toList().isEmpty());
    QCOMPARE(h, Headers());
}

void TestHeaders::addKeepsOrderAndDuplicates()
{
    Headers h;
    h.add("Accept", "text/html");
    h.add("Host", "example.com");
    h.add("accept", "application/json");
    QCOMPARE(h.size(), 3);
    QCOMPARE(h.toList(),
        (FieldList {
            {"Accept", "text/html"}, {"Host", "example.com"}, {"accept", "application/json"}}));
    QCOMPARE(h.values("ACCEPT"), (QList<QByteArray> {"text/html", "application/json"}));
    QCOMPARE(h.value("Accept"), QByteArrayView("text/html"));
    QCOMPARE(h.nameAt(2), QByteArrayView("accept"));
    QCOMPARE(h.valueAt(1), QByteArrayView("example.com"));

    const Headers listed {{"A", "1"}, {"B", "2"}, {"a", "3"}};
    QCOMPARE(listed.toList(), (FieldList {{"A", "1"}, {"B", "2"}, {"a", "3"}}));
}

void TestHeaders::lookupIgnoresAsciiCaseOnly_data()
{
    QTest::addColumn<QByteArray>("a");
    QTest::addColumn<QByteArray>("b");
    QTest::addColumn<bool>("equal");
    QTest::newRow("same") << QByteArray("Content-Type") << QByteArray("Content-Type") << true;
    QTest::newRow("lower and upper")
        << QByteArray("content-type") << QByteArray("CONTENT-TYPE") << true;
    QTest::newRow("different length") << QByteArray("Host") << QByteArray("Hosts") << false;
    QTest::newRow("prefix") << QByteArray("X-A") << QByteArray("X-") << false;
    QTest::newRow("empty and empty") << QByteArray() << QByteArray() << true;
    // Bytes that differ by 0x20 but are not letters must not be folded together.
    QTest::newRow("[ and {") << QByteArray("X[") << QByteArray("X{") << false;
    QTest::newRow("@ and `") << QByteArray("@") << QByteArray("`") << false;
    QTest::newRow("^ and ~") << QByteArray("^") << QByteArray("~") << false;
    QTest::newRow("- and \\r") << QByteArray("-") << QByteArray("\r") << false;
    // Only ASCII letters fold: UTF-8 e-acute and E-acute are different names.
    QTest::newRow("non-ASCII letters") << QByteArray("\xc3\xa9") << QByteArray("\xc3\x89") << false;
    QTest::newRow("Latin-1 letters") << QByteArray("\xe9") << QByteArray("\xc9") << false;
}

void TestHeaders::lookupIgnoresAsciiCaseOnly()
{
    QFETCH(QByteArray, a);
    QFETCH(QByteArray, b);
    QFETCH(bool, equal);
    QCOMPARE(Headers::nameEquals(a, b), equal);
    QCOMPARE(Headers::nameEquals(b, a), equal);
    Headers h;
    h.add(a, "v");
    QCOMPARE(h.contains(b), equal);
    QCOMPARE(h.value(b, "none"), QByteArrayView(equal ? "v" : "none"));
}

void TestHeaders::valueDefault()
{
    const Headers h {{"X-Empty", ""}};
    QVERIFY(h.contains("X-Empty"));
    // An empty value is still a value: the default is for absent fields only.
    QCOMPARE(h.value("X-Empty", "default"), QByteArrayView(""));
    QCOMPARE(h.value("X-Missing", "default"), QByteArrayView("default"));
    QCOMPARE(h.values("X-Empty"), (QList<QByteArray> {QByteArray("")}));
}

void TestHeaders::setReplacesAtTheFirstPlace_data()
{
    QTest::addColumn<FieldList>("before");
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<FieldList>("after");
    QTest::newRow("absent name is appended")
        << FieldList {{"A", "1"}} << QByteArray("B") << FieldList {{"A", "1"}, {"B", "new"}};
    QTest::newRow("single field replaced in place") << FieldList {{"A", "1"}, {"B", "2"},
        {"C", "3"}} << QByteArray("b") << FieldList {{"A", "1"}, {"b", "new"}, {"C", "3"}};
    QTest::newRow("duplicates collapse into the first place")
        << FieldList {{"X", "1"}, {"A", "a"}, {"x", "2"}, {"B", "b"}, {"X", "3"}} << QByteArray("X")
        << FieldList {{"X", "new"}, {"A", "a"}, {"B", "b"}};
    QTest::newRow("on empty headers")
        << FieldList {} << QByteArray("A") << FieldList {{"A", "new"}};
}

void TestHeaders::setReplacesAtTheFirstPlace()
{
    QFETCH(FieldList, before);
    QFETCH(QByteArray, name);
    QFETCH(FieldList, after);
    Headers h;
    for (const auto &[n, v] : before)
        h.add(n, v);
    h.set(name, "new");
    QCOMPARE(h.toList(), after);
}

void TestHeaders::removeReturnsTheCount()
{
    Headers h {{"Via", "1"}, {"Host", "h"}, {"VIA", "2"}, {"via", "3"}};
    QCOMPARE(h.remove("Missing"), 0);
    QCOMPARE(h.size(), 4);
    QCOMPARE(h.remove("via"), 3);
    QCOMPARE(h.toList(), (FieldList {{"Host", "h"}}));
    QCOMPARE(h.remove("host"), 1);
    QVERIFY(h.isEmpty());
}

void TestHeaders::combinedValue_data()
{
    QTest::addColumn<FieldList>("fields");
    QTest::addColumn<QByteArray>("combined");
    QTest::newRow("absent") << FieldList {{"Other", "x"}} << QByteArray();
    QTest::newRow("one field") << FieldList {{"Accept", "a/b"}} << QByteArray("a/b");
    QTest::newRow("two fields joined with comma-space") << FieldList {{"Accept", "a/b"}, {"X", "y"},
        {"accept", "c/d, e/f"}} << QByteArray("a/b, c/d, e/f");
    QTest::newRow("empty values kept as empty members")
        << FieldList {{"Accept", ""}, {"Accept", "a"}} << QByteArray(", a");
}

void TestHeaders::combinedValue()
{
    QFETCH(FieldList, fields);
    QFETCH(QByteArray, combined);
    Headers h;
    for (const auto &[n, v] : fields)
        h.add(n, v);
    QCOMPARE(h.combinedValue("Accept"), combined);
}

// Cookie values contain commas (Expires dates), so joining them would corrupt them.
void TestHeaders::setCookieIsNeverJoined()
{
    Headers h;
    h.add("Set-Cookie", "a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT");
    h.add("Set-Cookie", "b=2; Path=/");
    QCOMPARE(h.size(), 2);
    QCOMPARE(h.values("set-cookie"),
        (QList<QByteArray> {"a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT", "b=2; Path=/"}));
    h.append(Headers {{"Set-Cookie", "c=3"}});
    QCOMPARE(h.values("Set-Cookie").size(), 3);
}

void TestHeaders::hasToken_data()
{
    QTest::addColumn<FieldList>("fields");
    QTest::addColumn<QByteArray>("token");
    QTest::addColumn<bool>("found");
    const FieldList upgrade {{"Connection", "keep-alive, Upgrade"}};
    QTest::newRow("second member, other case") << upgrade << QByteArray("upgrade") << true;
    QTest::newRow("first member") << upgrade << QByteArray("Keep-Alive") << true;
    QTest::newRow("absent member") << upgrade << QByteArray("close") << false;
    QTest::newRow("OWS around members")
        << FieldList {{"Connection", " \tclose\t , x "}} << QByteArray("close") << true;
    QTest::newRow("member is a prefix of the token")
        << FieldList {{"Connection", "clos"}} << QByteArray("close") << false;
    QTest::newRow("token is a prefix of the member")
        << FieldList {{"Connection", "closed"}} << QByteArray("close") << false;
    QTest::newRow("empty members skipped")
        << FieldList {{"Connection", ", ,close,"}} << QByteArray("close") << true;
    QTest::newRow("in a second field")
        << FieldList {{"Connection", "a"}, {"X", "close"}, {"connection", "b, close"}}
        << QByteArray("close") << true;
    QTest::newRow("only in another field's value")
        << FieldList {{"Connection", "a"}, {"X", "close"}} << QByteArray("close") << false;
    QTest::newRow("absent field") << FieldList {} << QByteArray("close") << false;
}

void TestHeaders::hasToken()
{
    QFETCH(FieldList, fields);
    QFETCH(QByteArray, token);
    QFETCH(bool, found);
    Headers h;
    for (const auto &[n, v] : fields)
        h.add(n, v);
    QCOMPARE(h.hasToken("Connection", token), found);
}

void TestHeaders::appendAndClear()
{
    Headers h {{"A", "1"}};
    h.append(Headers {{"B", "2"}, {"A", "3"}});
    QCOMPARE(h.toList(), (FieldList {{"A", "1"}, {"B", "2"}, {"A", "3"}}));
    h.append(h); // appending to itself doubles, it does not loop
    QCOMPARE(h.size(), 6);
    QCOMPARE(h.toList().mid(3), (FieldList {{"A", "1"}, {"B", "2"}, {"A", "3"}}));
    h.append(Headers());
    QCOMPARE(h.size(), 6);

    h.reserve(32, 1024);
    QCOMPARE(h.size(), 6);
    h.clear();
    QVERIFY(h.isEmpty());
    h.add("C", "4");
    QCOMPARE(h.toList(), (FieldList {{"C", "4"}}));
}

void TestHeaders::copiesAreIndependent_data()
{
    QTest::addColumn<int>("operation");
    QTest::newRow("add") << 0;
    QTest::newRow("set") << 1;
    QTest::newRow("remove") << 2;
    QTest::newRow("clear") << 3;
    QTest::newRow("append") << 4;
    QTest::newRow("assign") << 5;
}

void TestHeaders::copiesAreIndependent()
{
    QFETCH(int, operation);
    const Headers original {{"Host", "example.com"}, {"Accept", "*/*"}};
    const FieldList before = original.toList();
    const QByteArrayView hostView = original.value("Host");

    Headers copy = original;
    switch (operation) {
    case 0:
        copy.add("X", "y");
        break;
    case 1:
        copy.set("Host", "other.example");
        break;
    case 2:
        copy.remove("Accept");
        break;
    case 3:
        copy.clear();
        break;
    case 4:
        copy.append(Headers {{"Z", "1"}});
        break;
    case 5:
        copy = Headers {{"Only", "this"}};
        break;
    }
    QVERIFY(copy.toList() != before);
    QCOMPARE(original.toList(), before);
    // Views into the original stay valid: its storage was not touched.
    QCOMPARE(hostView, QByteArrayView("example.com"));

    // And the other way round: modifying the original leaves a copy alone.
    Headers second = original;
    const Headers snapshot = second;
    second.add("Late", "1");
    QCOMPARE(snapshot.toList(), before);
}

// add() and set() may grow the storage that their arguments point into; they must copy first.
void TestHeaders::viewsIntoItself()
{
    Headers h {{"Name", "a-value-long-enough-to-matter"}};
    for (int i = 0; i < 200; ++i)
        h.add(h.nameAt(i), h.valueAt(i));
    QCOMPARE(h.size(), 201);
    for (const Headers::Field f : h) {
        QCOMPARE(f.name, QByteArrayView("Name"));
        QCOMPARE(f.value, QByteArrayView("a-value-long-enough-to-matter"));
    }

    Headers s {{"A", "source value"}, {"B", "b"}};
    s.set("B", s.value("A"));
    QCOMPARE(s.toList(), (FieldList {{"A", "source value"}, {"B", "source value"}}));
    s.set("A", s.value("A").sliced(7)); // a view into the very field being replaced
    QCOMPARE(s.toList(), (FieldList {{"A", "value"}, {"B", "source value"}}));
    s.set(s.nameAt(1), s.valueAt(0));
    QCOMPARE(s.toList(), (FieldList {{"A", "value"}, {"B", "value"}}));

    // The name is compared with the later fields after the new value went in: by then the
    // storage it pointed into may have moved.
    Headers t {{"X", "1"}, {"Y", "2"}, {"x", "3"}};
    const QByteArray big(4096, 'v');
    t.set(t.nameAt(0), big);
    QCOMPARE(t.toList(), (FieldList {{"X", big}, {"Y", "2"}}));
    QCOMPARE(t.remove(t.nameAt(1)), 1);
    QCOMPARE(t.toList(), (FieldList {{"X", big}}));
}

// Removal leaves garbage behind that is reclaimed at some point; values must survive that.
void TestHeaders::manyRemovalsKeepValuesIntact()
{
    Headers h;
    for (int round = 0; round < 50; ++round) {
        h.add("Keep-" + QByteArray::number(round), QByteArray(40, char('a' + round % 26)));
        for (int j = 0; j < 10; ++j)
            h.add("Drop", QByteArray(100, 'z'));
        QCOMPARE(h.remove("drop"), 10);
        h.set("Moving", QByteArray::number(round).repeated(30));
    }
    QCOMPARE(h.size(), 51);
    for (int round = 0; round < 50; ++round) {
        QCOMPARE(h.value("keep-" + QByteArray::number(round)),
            QByteArrayView(QByteArray(40, char('a' + round % 26))));
    }
    QCOMPARE(h.value("Moving"), QByteArrayView(QByteArray("49").repeated(30)));
}

void TestHeaders::iteration()
{
    const Headers h {{"A", "1"}, {"B", "2"}, {"A", "3"}};
    FieldList seen;
    for (const Headers::Field f : h)
        seen.append({f.name.toByteArray(), f.value.toByteArray()});
    QCOMPARE(seen, h.toList());
    qsizetype steps = 0;
    for (auto i = h.begin(); i != h.end(); ++i)
        ++steps;
    QCOMPARE(steps, 3);
    auto it = h.begin();
    ++it;
    QCOMPARE((*it).name, QByteArrayView("B"));
    QVERIFY(it != h.begin());
    QCOMPARE(h.at(2).value, QByteArrayView("3"));
}

void TestHeaders::equality_data()
{
    QTest::addColumn<FieldList>("a");
    QTest::addColumn<FieldList>("b");
    QTest::addColumn<bool>("equal");
    QTest::newRow("both empty") << FieldList {} << FieldList {} << true;
    QTest::newRow("same fields") << FieldList {{"A", "1"}, {"B", "2"}}
                                 << FieldList {{"A", "1"}, {"B", "2"}} << true;
    QTest::newRow("names differ only in case")
        << FieldList {{"content-type", "x"}} << FieldList {{"Content-Type", "x"}} << true;
    QTest::newRow("values differ in case")
        << FieldList {{"A", "x"}} << FieldList {{"A", "X"}} << false;
    QTest::newRow("order differs")
        << FieldList {{"A", "1"}, {"B", "2"}} << FieldList {{"B", "2"}, {"A", "1"}} << false;
    QTest::newRow("one more duplicate")
        << FieldList {{"A", "1"}} << FieldList {{"A", "1"}, {"A", "1"}} << false;
}

void TestHeaders::equality()
{
    QFETCH(FieldList, a);
    QFETCH(FieldList, b);
    QFETCH(bool, equal);
    Headers ha, hb;
    for (const auto &[n, v] : a)
        ha.add(n, v);
    for (const auto &[n, v] : b)
        hb.add(n, v);
    QCOMPARE(ha == hb, equal);
    QCOMPARE(hb == ha, equal);
    QCOMPARE(ha != hb, !equal);
}

// The parser's path: spans into a buffer it already holds, no per-field copy.
void TestHeaders::fromArena()
{
    const QByteArray arena = QByteArrayLiteral("Host: h\r\nAccept: */*\r\n");
    Headers h = Headers::fromArena(arena, 2);
    h.addSpan(0, 4, 6, 1);
    h.addSpan(9, 6, 17, 3);
    QCOMPARE(h.toList(), (FieldList {{"Host", "h"}, {"Accept", "*/*"}}));
    // The views point into the shared arena itself.
    QCOMPARE(h.value("host").data(), arena.constData() + 6);
    // Modifying such a Headers keeps the spans and the arena consistent.
    h.add("X", "y");
    h.set("Host", "other");
    QCOMPARE(h.toList(), (FieldList {{"Host", "other"}, {"Accept", "*/*"}, {"X", "y"}}));
    QCOMPARE(arena, QByteArrayLiteral("Host: h\r\nAccept: */*\r\n"));
}

void TestHeaders::debugPrinting()
{
    const Headers h {{"Host", "example.com"}, {"Set-Cookie", "a=1"}};
    QString text;
    QDebug(&text) << h;
    const qsizetype host = text.indexOf(QLatin1String("Host"));
    const qsizetype cookie = text.indexOf(QLatin1String("Set-Cookie"));
    QVERIFY2(host >= 0 && cookie > host, qPrintable(text));
    QVERIFY2(text.contains(QLatin1String("example.com")), qPrintable(text));
    QVERIFY2(text.contains(QLatin1String("a=1")), qPrintable(text));
}

void TestHeaders::metaType()
{
    const Headers h {{"A", "1"}, {"a", "2"}};
    const QVariant v = QVariant::fromValue(h);
    QVERIFY(v.isValid());
    QCOMPARE(v.metaType(), QMetaType::fromType<Headers>());
    QCOMPARE(v.value<Headers>(), h);

    Headers source(h);
    Headers moved(std::move(source));
    QCOMPARE(moved, h);
    Headers other {{"B", "3"}};
    moved.swap(other);
    QCOMPARE(moved.toList(), (FieldList {{"B", "3"}}));
    QCOMPARE(other, h);
    static_assert(std::is_nothrow_move_constructible_v<Headers>);
    static_assert(std::is_nothrow_move_assignable_v<Headers>);
}

QTEST_GUILESS_MAIN(TestHeaders)
#include "tst_headers.moc"
