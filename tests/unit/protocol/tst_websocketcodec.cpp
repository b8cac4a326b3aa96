// The RFC 6455 codec of src/protocol/websocketcodec.h.
//
// Parser tables: each row is exact bytes from the server and the events they must give. Every
// row is fed whole, split in two at every offset (a sample of offsets for the few rows over
// 4 KiB) and one byte at a time, and must give the same line every time. The groups follow
// the Autobahn fuzzingserver cases 1-7: framing and lengths (1.x), pings (2.x), reserved bits
// (3.x), opcodes (4.x), fragmentation (5.x), UTF-8 in chops (6.x), close handling (7.x), plus
// masking and limits. Writer tests parse what the writer produced (unmasking it in the server
// role) and check the exact header bytes at the length boundaries.
#include "unit/protocol/websocketlog.h"

#include <QSet>
#include <QTest>

#include <vector>

using namespace WebSocketLog;
using Reqivo::Protocol::Utf8Validator;

namespace {

QString textEntry(QByteArrayView payload)
{
    return QLatin1String("text '") + escaped(payload) + QLatin1Char('\'');
}
QString binaryEntry(QByteArrayView payload)
{
    return QLatin1String("binary '") + escaped(payload) + QLatin1Char('\'');
}

QByteArray repeated(qsizetype n)
{
    QByteArray out(n, Qt::Uninitialized);
    for (qsizetype i = 0; i < n; ++i)
        out[i] = char('a' + i % 26);
    return out;
}

void addColumns()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("expected");
    QTest::addColumn<int>("role");
    QTest::addColumn<qint64>("maxFrame");
    QTest::addColumn<qint64>("maxMessage");
}

void addRow(
    const char *name, const QByteArray &input, const QString &expected, const Options &options = {})
{
    QTest::newRow(name) << input << expected << int(options.role) << options.limits.maxFrameBytes
                        << options.limits.maxMessageBytes;
}

void addRow(const QString &name, const QByteArray &input, const QString &expected,
    const Options &options = {})
{
    addRow(qPrintable(name), input, expected, options);
}

Options limited(qint64 maxFrame, qint64 maxMessage)
{
    return Options {.limits = {.maxFrameBytes = maxFrame, .maxMessageBytes = maxMessage}};
}

QString error(const char *name, int code = 1002)
{
    return QStringLiteral("error %1 %2").arg(QLatin1String(name)).arg(code);
}

void verifyRow()
{
    QFETCH(QByteArray, input);
    QFETCH(QString, expected);
    QFETCH(int, role);
    QFETCH(qint64, maxFrame);
    QFETCH(qint64, maxMessage);
    const Options options {.role = WS::Role(role),
        .limits = {.maxFrameBytes = maxFrame, .maxMessageBytes = maxMessage}};

    const Outcome whole = runWhole(input, options);
    QCOMPARE(whole.log, expected);
    QCOMPARE(runWholeShared(input, options).log, expected);
    if (whole.failed)
        QVERIFY2(!whole.errorMessage.isEmpty(), "an error without a message");

    std::vector<qsizetype> offsets;
    if (input.size() <= 4096) {
        for (qsizetype at = 1; at < input.size(); ++at)
            offsets.push_back(at);
    } else {
        for (qsizetype at = 1; at < 64; ++at) {
            offsets.push_back(at);
            offsets.push_back(input.size() - at);
        }
        for (qsizetype at = 64; at < input.size() - 64; at += input.size() / 97)
            offsets.push_back(at);
    }
    for (const qsizetype at : offsets) {
        const Outcome split = runSplit(input, at, options);
        if (split.log != expected)
            QFAIL(qPrintable(QStringLiteral("split at %1: %2").arg(at).arg(split.log)));
    }
    QCOMPARE(runBytewise(input, options).log, expected);
}

// Valid UTF-8 (Autobahn 6.2, 6.5-6.7 boundaries, 6.11 noncharacters are valid).
const QList<QByteArray> &validUtf8()
{
    static const QList<QByteArray> list = {
        QByteArray("Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!"),
        QByteArray("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"), // κόσμε
        QByteArray("\x00", 1), // U+0000
        QByteArray("\x7f"), // U+007F
        QByteArray("\xc2\x80"), // U+0080
        QByteArray("\xdf\xbf"), // U+07FF
        QByteArray("\xe0\xa0\x80"), // U+0800
        QByteArray("\xed\x9f\xbf"), // U+D7FF
        QByteArray("\xee\x80\x80"), // U+E000
        QByteArray("\xef\xbf\xbd"), // U+FFFD
        QByteArray("\xef\xbf\xbf"), // U+FFFF
        QByteArray("\xf0\x90\x80\x80"), // U+10000
        QByteArray("\xf4\x8f\xbf\xbf"), // U+10FFFF
    };
    return list;
}

// Invalid UTF-8 and the index of the first byte that makes it certainly invalid (-1: only
// its end does, an unfinished character).
struct Invalid
{
    const char *name;
    QByteArray bytes;
    int failsAt;
};
const QList<Invalid> &invalidUtf8()
{
    static const QList<Invalid> list = {
        {"lone continuation",
            QByteArray("a\x80"
                       "b"),
            1},
        {"continuation 0xbf", QByteArray("\xbf"), 0},
        {"overlong 2-byte C0", QByteArray("\xc0\x80"), 0},
        {"overlong 2-byte C1", QByteArray("\xc1\xbf"), 0},
        {"overlong 3-byte", QByteArray("\xe0\x80\xaf"), 1},
        {"overlong 4-byte", QByteArray("\xf0\x80\x80\xaf"), 1},
        {"overlong 3-byte max", QByteArray("\xe0\x9f\xbf"), 1},
        {"overlong 4-byte max", QByteArray("\xf0\x8f\xbf\xbf"), 1},
        {"surrogate D800", QByteArray("\xed\xa0\x80"), 1},
        {"surrogate DFFF", QByteArray("\xed\xbf\xbf"), 1},
        {"surrogate pair", QByteArray("\xed\xa0\x80\xed\xb0\x80"), 1},
        {"above U+10FFFF", QByteArray("\xf4\x90\x80\x80"), 1},
        {"F5 lead", QByteArray("\xf5\x80\x80\x80"), 0},
        {"FE", QByteArray("\xfe"), 0},
        {"FF", QByteArray("\xff"), 0},
        {"5-byte form", QByteArray("\xf8\x88\x80\x80\x80"), 0},
        {"2-byte missing continuation",
            QByteArray("\xc2"
                       "a"),
            1},
        {"3-byte cut by ASCII",
            QByteArray("\xe2\x82"
                       "a"),
            2},
        {"kosme then above U+10FFFF",
            QByteArray("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80"
                       "edited"),
            12},
        {"truncated 2-byte at end", QByteArray("ab\xc2"), -1},
        {"truncated 3-byte at end", QByteArray("\xe2\x82"), -1},
        {"truncated 4-byte at end", QByteArray("\xf0\x9f\x98"), -1},
    };
    return list;
}

} // namespace

class TestWebSocketCodec : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void framing_data();
    void framing() { verifyRow(); }
    void pings_data();
    void pings() { verifyRow(); }
    void reservedBits_data();
    void reservedBits() { verifyRow(); }
    void opcodes_data();
    void opcodes() { verifyRow(); }
    void masking_data();
    void masking() { verifyRow(); }
    void fragmentation_data();
    void fragmentation() { verifyRow(); }
    void limits_data();
    void limits() { verifyRow(); }
    void utf8_data();
    void utf8() { verifyRow(); }
    void closeFrames_data();
    void closeFrames() { verifyRow(); }

    void utf8ValidatorFailsFast_data();
    void utf8ValidatorFailsFast();
    void limitsAreCheckedBeforeThePayload();
    void errorIsFinal();
    void resetStartsOver();
    void errorNamesAndCodes();
    void insideMessage();

    void writerLengths_data();
    void writerLengths();
    void writerMasksWithTheKey();
    void writerKeysComeFromTheSystemGenerator();
    void writerFragments_data();
    void writerFragments();
    void writerTextFromString_data();
    void writerTextFromString();
    void writerControlFrames();
    void writerClose_data();
    void writerClose();
    void writerServerRoleDoesNotMask();
};

void TestWebSocketCodec::framing_data()
{
    addColumns();
    addRow("empty input", {}, QString());
    addRow("empty text", frame(TextFin, ""), textEntry(""));
    addRow("short text", frame(TextFin, "Hello"), textEntry("Hello"));
    addRow("empty binary", frame(BinaryFin, ""), binaryEntry(""));
    addRow("binary with every byte value", frame(BinaryFin, QByteArray("\x00\xff\x80\x7f", 4)),
        binaryEntry(QByteArray("\x00\xff\x80\x7f", 4)));
    for (const qsizetype n : {125, 126, 127, 128, 65535, 65536, 65537}) {
        const QByteArray payload = repeated(n);
        addRow(
            QStringLiteral("text of %1 bytes").arg(n), frame(TextFin, payload), textEntry(payload));
        addRow(QStringLiteral("binary of %1 bytes").arg(n), frame(BinaryFin, payload),
            binaryEntry(payload));
    }
    // RFC 6455 §5.2's minimal encoding binds the sender; the parser accepts longer forms.
    addRow("5 bytes in the 16-bit form", frame(TextFin, "Hello", LengthForm::Bits16),
        textEntry("Hello"));
    addRow("5 bytes in the 64-bit form", frame(TextFin, "Hello", LengthForm::Bits64),
        textEntry("Hello"));
    addRow("200 bytes in the 64-bit form", frame(BinaryFin, repeated(200), LengthForm::Bits64),
        binaryEntry(repeated(200)));
    addRow("64-bit length with its MSB set",
        QByteArray("\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x05", 10) + "Hello",
        error("LengthMsbSet"));
    addRow("64-bit MSB refused at its first byte", QByteArray("\x82\x7f\xff", 3),
        error("LengthMsbSet"));
    addRow("two messages back to back", frame(TextFin, "one") + frame(BinaryFin, "two"),
        textEntry("one") + QLatin1String(" | ") + binaryEntry("two"));
    addRow("a frame header alone waits", QByteArray("\x81\x05", 2), QString());
    addRow("a partial frame waits", QByteArray("\x81\x05He", 4), QString());
}

void TestWebSocketCodec::pings_data()
{
    addColumns();
    addRow("empty ping", frame(PingFin, ""), QStringLiteral("ping ''"));
    addRow(
        "ping with text", frame(PingFin, "Hello, world!"), QStringLiteral("ping 'Hello, world!'"));
    addRow("ping with binary", frame(PingFin, QByteArray("\x00\xff\xfe\xfd\xfc\xfb\x00\xff", 8)),
        QStringLiteral("ping '\\x00\\xff\\xfe\\xfd\\xfc\\xfb\\x00\\xff'"));
    addRow("ping of 125 bytes", frame(PingFin, QByteArray(125, 'p')),
        QLatin1String("ping '") + escaped(QByteArray(125, 'p')) + QLatin1Char('\''));
    addRow("ping of 126 bytes", frame(PingFin, QByteArray(126, 'p')), error("ControlTooLong"));
    addRow("ping of 5 bytes in the 16-bit form", frame(PingFin, "Hello", LengthForm::Bits16),
        error("ControlTooLong"));
    addRow("ping over 125 refused at its length byte", QByteArray("\x89\x7e", 2),
        error("ControlTooLong"));
    addRow("unsolicited pong", frame(PongFin, "unsolicited"), QStringLiteral("pong 'unsolicited'"));
    addRow("unsolicited pong then ping", frame(PongFin, "u") + frame(PingFin, "p"),
        QStringLiteral("pong 'u' | ping 'p'"));
    addRow("ten pings", frame(PingFin, "x").repeated(10),
        QStringList(10, QStringLiteral("ping 'x'")).join(QLatin1String(" | ")));
    addRow("ping without FIN", frame(0x09, "a"), error("FragmentedControl"));
    addRow("pong without FIN", frame(0x0a, "a"), error("FragmentedControl"));
    addRow("close without FIN", frame(0x08, ""), error("FragmentedControl"));
}

void TestWebSocketCodec::reservedBits_data()
{
    addColumns();
    addRow("RSV1 on text", frame(0xc1, "Hello"), error("ReservedBits"));
    addRow("RSV2 after a valid text",
        frame(TextFin, "Hello") + frame(0xa1, "Hello") + frame(PingFin, ""),
        textEntry("Hello") + QLatin1String(" | ") + error("ReservedBits"));
    addRow("RSV3 on text", frame(0x91, "Hello"), error("ReservedBits"));
    addRow("RSV1+RSV3 on binary", frame(0xd2, "x"), error("ReservedBits"));
    addRow("RSV1+RSV2 on ping", frame(0xe9, "x"), error("ReservedBits"));
    addRow("all RSV on close", frame(0xf8, ""), error("ReservedBits"));
    addRow("RSV on a continuation", frame(Text, "a") + frame(0xc0, "b"), error("ReservedBits"));
    addRow("refused at the first byte", QByteArray("\xc1", 1), error("ReservedBits"));
}

void TestWebSocketCodec::opcodes_data()
{
    addColumns();
    for (const int op : {3, 4, 5, 6, 7, 11, 12, 13, 14, 15}) {
        addRow(QStringLiteral("opcode %1").arg(op), frame(quint8(0x80 | op), ""),
            error("UnknownOpcode"));
        addRow(QStringLiteral("opcode %1 after a text").arg(op),
            frame(TextFin, "a") + frame(quint8(0x80 | op), "b") + frame(PingFin, ""),
            textEntry("a") + QLatin1String(" | ") + error("UnknownOpcode"));
    }
    addRow("opcode 3 refused at the first byte", QByteArray("\x83", 1), error("UnknownOpcode"));
    addRow("opcode 11 inside a fragmented message", frame(Text, "a") + frame(0x8b, ""),
        error("UnknownOpcode"));
}

void TestWebSocketCodec::masking_data()
{
    addColumns();
    const QByteArray key("\x37\xfa\x21\x3d", 4);
    addRow("masked text from the server", frame(TextFin, "Hello", LengthForm::Minimal, key),
        error("MaskedFrame"));
    addRow("masked ping from the server", frame(PingFin, "", LengthForm::Minimal, key),
        error("MaskedFrame"));
    addRow(
        "masked frame refused at its second byte", QByteArray("\x81\x85", 2), error("MaskedFrame"));
    const Options server {.role = WS::Role::Server};
    addRow("server role: masked text", frame(TextFin, "Hello", LengthForm::Minimal, key),
        textEntry("Hello"), server);
    addRow("server role: masked 300 bytes",
        frame(BinaryFin, repeated(300), LengthForm::Minimal, key), binaryEntry(repeated(300)),
        server);
    addRow("server role: masked fragments with a ping",
        frame(Text, "Hel", LengthForm::Minimal, key) + frame(PingFin, "p", LengthForm::Minimal, key)
            + frame(ContFin, "lo", LengthForm::Minimal, QByteArray("\x01\x02\x03\x04", 4)),
        QLatin1String("ping 'p' | ") + textEntry("Hello"), server);
    addRow("server role: unmasked text", frame(TextFin, "Hello"), error("UnmaskedFrame"), server);
}

void TestWebSocketCodec::fragmentation_data()
{
    addColumns();
    addRow("ping in two fragments", frame(0x09, "ping") + frame(ContFin, "ping"),
        error("FragmentedControl"));
    addRow("pong in two fragments", frame(0x0a, "pong") + frame(ContFin, "pong"),
        error("FragmentedControl"));
    addRow("text in two fragments", frame(Text, "fragment1") + frame(ContFin, "fragment2"),
        textEntry("fragment1fragment2"));
    addRow("binary in two fragments", frame(Binary, "fragment1") + frame(ContFin, "fragment2"),
        binaryEntry("fragment1fragment2"));
    addRow("text in three fragments", frame(Text, "a") + frame(Cont, "b") + frame(ContFin, "c"),
        textEntry("abc"));
    addRow("empty fragments",
        frame(Text, "") + frame(Cont, "") + frame(Cont, "abc") + frame(ContFin, ""),
        textEntry("abc"));
    addRow("ping between fragments",
        frame(Text, "fragment1") + frame(PingFin, "ping") + frame(ContFin, "fragment2"),
        QLatin1String("ping 'ping' | ") + textEntry("fragment1fragment2"));
    addRow("pong between fragments", frame(Binary, "a") + frame(PongFin, "") + frame(ContFin, "b"),
        QLatin1String("pong '' | ") + binaryEntry("ab"));
    addRow("close between fragments",
        frame(Text, "a") + frame(CloseFin, closePayload(1000)) + frame(ContFin, "b"),
        QStringLiteral("close 1000 ''"));
    addRow("control frames between one-byte fragments",
        frame(Text, "f") + frame(PingFin, "1") + frame(Cont, "r") + frame(PongFin, "2")
            + frame(Cont, "a") + frame(PingFin, "3") + frame(Cont, "g") + frame(ContFin, "!"),
        QLatin1String("ping '1' | pong '2' | ping '3' | ") + textEntry("frag!"));
    QByteArray bytewise;
    const QByteArray msg = repeated(40);
    for (qsizetype i = 0; i < msg.size(); ++i)
        bytewise += frame(
            quint8((i == 0 ? Binary : Cont) | (i + 1 == msg.size() ? Fin : 0)), msg.sliced(i, 1));
    addRow("binary in one-byte fragments", bytewise, binaryEntry(msg));
    addRow("continuation first", frame(ContFin, "x"), error("UnexpectedContinuation"));
    addRow("non-final continuation first", frame(Cont, "x") + frame(ContFin, "y"),
        error("UnexpectedContinuation"));
    addRow("continuation after a complete message", frame(TextFin, "a") + frame(ContFin, "b"),
        textEntry("a") + QLatin1String(" | ") + error("UnexpectedContinuation"));
    addRow("continuation after a complete fragmented message",
        frame(Text, "a") + frame(ContFin, "b") + frame(Cont, "c") + frame(ContFin, "d"),
        textEntry("ab") + QLatin1String(" | ") + error("UnexpectedContinuation"));
    addRow("text while a text is open", frame(Text, "a") + frame(TextFin, "b"),
        error("ExpectedContinuation"));
    addRow("binary while a text is open", frame(Text, "a") + frame(BinaryFin, "b"),
        error("ExpectedContinuation"));
    addRow("non-final text while a binary is open",
        frame(Binary, "a") + frame(PingFin, "") + frame(Text, "b"),
        QLatin1String("ping '' | ") + error("ExpectedContinuation"));
    addRow("unfinished message waits", frame(Text, "a") + frame(Cont, "b"), QString());
}

void TestWebSocketCodec::limits_data()
{
    addColumns();
    addRow("frame at the frame limit", frame(BinaryFin, repeated(10)), binaryEntry(repeated(10)),
        limited(10, -1));
    addRow("frame one byte over", frame(BinaryFin, repeated(11)), error("FrameTooLarge", 1009),
        limited(10, -1));
    addRow("frame over refused on its header alone", QByteArray("\x82\x0b", 2),
        error("FrameTooLarge", 1009), limited(10, -1));
    addRow("16-bit length over, header alone", QByteArray("\x82\x7e\x01\x00", 4),
        error("FrameTooLarge", 1009), limited(255, -1));
    addRow("64-bit length over the default limit, header alone",
        QByteArray("\x82\x7f\x40\x00\x00\x00\x00\x00\x00\x00", 10), error("FrameTooLarge", 1009));
    addRow("no limits: a huge header waits",
        QByteArray("\x82\x7f\x00\x00\x01\x00\x00\x00\x00\x00", 10), QString(), limited(-1, -1));
    addRow("ping over a small frame limit", frame(PingFin, "12345"), error("FrameTooLarge", 1009),
        limited(4, -1));
    addRow("message at the message limit", frame(Text, repeated(6)) + frame(ContFin, repeated(6)),
        textEntry(repeated(6) + repeated(6)), limited(-1, 12));
    addRow("message one byte over, refused at the last header",
        frame(Text, repeated(6)) + QByteArray("\x80\x07", 2), error("MessageTooLarge", 1009),
        limited(-1, 12));
    addRow("single frame over the message limit", frame(TextFin, repeated(13)),
        error("MessageTooLarge", 1009), limited(100, 12));
    addRow("control frames do not count toward the message",
        frame(Text, repeated(6)) + frame(PingFin, repeated(100)) + frame(ContFin, repeated(6)),
        QLatin1String("ping '") + escaped(repeated(100)) + QLatin1String("' | ")
            + textEntry(repeated(6) + repeated(6)),
        limited(-1, 12));
    addRow("the limit applies per message",
        frame(TextFin, repeated(12)) + frame(TextFin, repeated(12)),
        textEntry(repeated(12)) + QLatin1String(" | ") + textEntry(repeated(12)), limited(-1, 12));
    addRow("zero limits allow empty messages", frame(TextFin, "") + frame(BinaryFin, "x"),
        textEntry("") + QLatin1String(" | ") + error("FrameTooLarge", 1009), limited(0, 0));
}

void TestWebSocketCodec::utf8_data()
{
    addColumns();
    for (const QByteArray &text : validUtf8()) {
        const QString hex = QString::fromLatin1(text.toHex());
        addRow(QLatin1String("valid ") + hex + QLatin1String(" whole"), frame(TextFin, text),
            textEntry(text));
        // Autobahn 6.x "in chops": one frame per byte, every character split across frames.
        QByteArray chops;
        for (qsizetype i = 0; i < text.size(); ++i)
            chops += frame(quint8((i == 0 ? Text : Cont) | (i + 1 == text.size() ? Fin : 0)),
                text.sliced(i, 1));
        addRow(QLatin1String("valid ") + hex + QLatin1String(" in one-byte frames"), chops,
            textEntry(text));
        addRow(QLatin1String("valid ") + hex + QLatin1String(" with a ping inside"),
            frame(Text, text.first(text.size() / 2)) + frame(PingFin, "")
                + frame(ContFin, text.sliced(text.size() / 2)),
            QLatin1String("ping '' | ") + textEntry(text));
    }
    for (const Invalid &inv : invalidUtf8()) {
        addRow(QLatin1String("invalid: ") + QLatin1String(inv.name), frame(TextFin, inv.bytes),
            error("InvalidUtf8", 1007));
        QByteArray chops;
        for (qsizetype i = 0; i < inv.bytes.size(); ++i)
            chops += frame(quint8((i == 0 ? Text : Cont) | (i + 1 == inv.bytes.size() ? Fin : 0)),
                inv.bytes.sliced(i, 1));
        addRow(QLatin1String("invalid in one-byte frames: ") + QLatin1String(inv.name), chops,
            error("InvalidUtf8", 1007));
        if (inv.failsAt >= 0) {
            // Fail fast: the error comes at the offending byte, before the frame (announced
            // 100 bytes longer) or the message is complete.
            QByteArray partial = frame(Text, inv.bytes + QByteArray(100, 'x'));
            partial.chop(100);
            addRow(QLatin1String("fails fast: ") + QLatin1String(inv.name), partial,
                error("InvalidUtf8", 1007));
        }
    }
    addRow("binary is not validated", frame(BinaryFin, "\xff\xfe\xc0\x80"),
        binaryEntry("\xff\xfe\xc0\x80"));
    addRow("character split across fragments with a pong between",
        frame(Text, "\xf0\x9f") + frame(PongFin, "") + frame(ContFin, "\x98\x80"),
        QLatin1String("pong '' | ") + textEntry("\xf0\x9f\x98\x80"));
    addRow("unfinished character at the end of the message",
        frame(Text, "a\xe2\x82") + frame(ContFin, ""), error("InvalidUtf8", 1007));
    addRow("the validator restarts for each message",
        frame(Text, "\xc3") + frame(ContFin, "\xa9") + frame(TextFin, "\xa9"),
        textEntry("\xc3\xa9") + QLatin1String(" | ") + error("InvalidUtf8", 1007));
}

void TestWebSocketCodec::closeFrames_data()
{
    addColumns();
    addRow("empty close reports 1005", frame(CloseFin, ""), QStringLiteral("close 1005 ''"));
    addRow("close with one byte", frame(CloseFin, "\x03"), error("BadClosePayload"));
    addRow("close 1000 with a reason", frame(CloseFin, closePayload(1000, "Hello World!")),
        QStringLiteral("close 1000 'Hello World!'"));
    addRow("close with a 123-byte reason", frame(CloseFin, closePayload(1000, repeated(123))),
        QStringLiteral("close 1000 '%1'").arg(escaped(repeated(123))));
    addRow("close with a 124-byte reason", frame(CloseFin, closePayload(1000, repeated(124))),
        error("ControlTooLong"));
    addRow("close with a UTF-8 reason",
        frame(CloseFin, closePayload(1001, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5")),
        QStringLiteral("close 1001 '\\xce\\xba\\xe1\\xbd\\xb9\\xcf\\x83\\xce\\xbc\\xce\\xb5'"));
    addRow("close with an invalid UTF-8 reason",
        frame(CloseFin,
            closePayload(1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80")),
        error("BadCloseReason", 1007));
    addRow("close with a truncated UTF-8 reason", frame(CloseFin, closePayload(1000, "\xce")),
        error("BadCloseReason", 1007));
    for (const int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
             3000, 3999, 4000, 4999}) {
        addRow(QStringLiteral("valid code %1").arg(code), frame(CloseFin, closePayload(code)),
            QStringLiteral("close %1 ''").arg(code));
    }
    for (const int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
        addRow(QStringLiteral("invalid code %1").arg(code), frame(CloseFin, closePayload(code)),
            error("BadCloseCode"));
    }
    addRow("text then close", frame(TextFin, "Hello") + frame(CloseFin, closePayload(1000)),
        textEntry("Hello") + QLatin1String(" | close 1000 ''"));
    addRow("frames after a close are ignored",
        frame(CloseFin, closePayload(1000)) + frame(TextFin, "late") + frame(PingFin, ""),
        QStringLiteral("close 1000 ''"));
    addRow("a second close is ignored",
        frame(CloseFin, closePayload(1000)) + frame(CloseFin, closePayload(1001)),
        QStringLiteral("close 1000 ''"));
    addRow("a ping after a close is ignored", frame(CloseFin, "") + frame(PingFin, "p"),
        QStringLiteral("close 1005 ''"));
    addRow("garbage after a close is ignored",
        frame(CloseFin, "") + QByteArray("\xff\xff\xff\xff", 4), QStringLiteral("close 1005 ''"));
    addRow("close with a 126-byte payload", frame(CloseFin, closePayload(1000, repeated(124))),
        error("ControlTooLong"));
}

void TestWebSocketCodec::utf8ValidatorFailsFast_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("failsAt");
    for (const Invalid &inv : invalidUtf8())
        QTest::newRow(inv.name) << inv.bytes << inv.failsAt;
    for (const QByteArray &text : validUtf8())
        QTest::newRow(text.toHex().constData()) << text << -2; // -2: valid
}

void TestWebSocketCodec::utf8ValidatorFailsFast()
{
    QFETCH(QByteArray, bytes);
    QFETCH(int, failsAt);
    Utf8Validator v;
    int failed = -1;
    for (qsizetype i = 0; i < bytes.size(); ++i) {
        if (!v.feed(bytes.sliced(i, 1))) {
            failed = int(i);
            break;
        }
    }
    if (failsAt == -2) {
        QCOMPARE(failed, -1);
        QVERIFY(v.isComplete());
        QVERIFY(Utf8Validator::isValidUtf8(bytes));
    } else {
        QCOMPARE(failed, failsAt);
        QVERIFY(!v.isComplete());
        QVERIFY(!Utf8Validator::isValidUtf8(bytes));
        QVERIFY(!v.feed("a")); // stays invalid
    }
    // The eight-byte ASCII path gives the same answer with ASCII around the bytes.
    const QByteArray padded = QByteArray(13, 'a') + bytes + QByteArray(17, 'b');
    QCOMPARE(Utf8Validator::isValidUtf8(padded), failsAt == -2);
}

void TestWebSocketCodec::limitsAreCheckedBeforeThePayload()
{
    // A header announcing 2^40 bytes fails at once, and nothing of it is held.
    WS::FrameParser p(WS::Role::Client, {.maxFrameBytes = 1 << 20, .maxMessageBytes = -1});
    p.receiveData(QByteArray("\x82\x7f\x00\x00\x01\x00\x00\x00\x00\x00", 10));
    QCOMPARE(p.nextEvent().type, WS::FrameParser::EventType::Error);
    QCOMPARE(p.error(), WS::Error::FrameTooLarge);
    QCOMPARE(p.errorCloseCode(), quint16(1009));
    QVERIFY(!p.isInsideMessage());
}

void TestWebSocketCodec::errorIsFinal()
{
    WS::FrameParser p;
    p.receiveData(frame(0xc1, "x"));
    QCOMPARE(p.nextEvent().type, WS::FrameParser::EventType::Error);
    p.receiveData(frame(TextFin, "ok"));
    QCOMPARE(p.nextEvent().type, WS::FrameParser::EventType::Error);
    QCOMPARE(p.state(), WS::FrameParser::State::Failed);
    QCOMPARE(p.error(), WS::Error::ReservedBits);
}

void TestWebSocketCodec::resetStartsOver()
{
    WS::FrameParser p(WS::Role::Client, {.maxFrameBytes = 5, .maxMessageBytes = 5});
    p.receiveData(frame(Text, "ab"));
    QCOMPARE(p.nextEvent().type, WS::FrameParser::EventType::NeedData);
    QVERIFY(p.isInsideMessage());
    p.reset();
    QVERIFY(!p.isInsideMessage());
    QCOMPARE(p.limits().maxFrameBytes, 5);
    p.receiveData(frame(TextFin, "cd"));
    const WS::FrameParser::Event ev = p.nextEvent();
    QCOMPARE(ev.type, WS::FrameParser::EventType::TextMessage);
    QCOMPARE(ev.payload, QByteArray("cd"));
}

void TestWebSocketCodec::errorNamesAndCodes()
{
    // Every error has its own name (logs and messages tell them apart) and the close code the
    // RFC asks for.
    QSet<QString> names;
    for (int e = int(WS::Error::None); e <= int(WS::Error::BadCloseReason); ++e) {
        const QString name = WS::errorName(WS::Error(e));
        QCOMPARE(name, logName(WS::Error(e)));
        names.insert(name);
        const quint16 code = WS::errorCloseCode(WS::Error(e));
        switch (WS::Error(e)) {
        case WS::Error::None:
            QCOMPARE(code, quint16(0));
            break;
        case WS::Error::FrameTooLarge:
        case WS::Error::MessageTooLarge:
            QCOMPARE(code, quint16(1009));
            break;
        case WS::Error::InvalidUtf8:
        case WS::Error::BadCloseReason:
            QCOMPARE(code, quint16(1007));
            break;
        default:
            QCOMPARE(code, quint16(1002));
            QVERIFY(WS::isSendableCloseCode(code));
        }
    }
    QCOMPARE(names.size(), int(WS::Error::BadCloseReason) + 1);
}

void TestWebSocketCodec::insideMessage()
{
    // What an engine asks when the connection drops: was anything left unfinished?
    WS::FrameParser p;
    QVERIFY(!p.isInsideMessage());
    p.receiveData(QByteArrayView("\x81"));
    QCOMPARE(p.nextEvent().type, WS::FrameParser::EventType::NeedData);
    QVERIFY(p.isInsideMessage()); // half a header
    p.receiveData(QByteArray(1, '\0'));
    QCOMPARE(p.nextEvent().type, WS::FrameParser::EventType::TextMessage);
    QVERIFY(!p.isInsideMessage());
    p.receiveData(frame(Binary, "ab"));
    QCOMPARE(p.nextEvent().type, WS::FrameParser::EventType::NeedData);
    QVERIFY(p.isInsideMessage()); // a fragmented message open
    p.receiveData(frame(CloseFin, closePayload(1000)));
    const WS::FrameParser::Event close = p.nextEvent();
    QCOMPARE(close.type, WS::FrameParser::EventType::Close);
    QCOMPARE(close.closeCode, quint16(1000));
    QCOMPARE(p.state(), WS::FrameParser::State::Closed);
    QVERIFY(!p.isInsideMessage());
    p.receiveData(frame(TextFin, "late"));
    QCOMPARE(p.nextEvent().type, WS::FrameParser::EventType::NeedData);
}

void TestWebSocketCodec::writerLengths_data()
{
    QTest::addColumn<qsizetype>("size");
    QTest::addColumn<int>("len7");
    QTest::addColumn<int>("headerBytes");
    for (const qsizetype n : {0, 1, 125})
        QTest::addRow("%lld", qlonglong(n)) << n << int(n) << 6;
    for (const qsizetype n : {126, 127, 65535})
        QTest::addRow("%lld", qlonglong(n)) << n << 126 << 8;
    for (const qsizetype n : {65536, 65537, 1 << 20})
        QTest::addRow("%lld", qlonglong(n)) << n << 127 << 14;
}

void TestWebSocketCodec::writerLengths()
{
    QFETCH(qsizetype, size);
    QFETCH(int, len7);
    QFETCH(int, headerBytes);
    const QByteArray payload = repeated(size);
    WS::FrameWriter w;
    for (const bool text : {true, false}) {
        QByteArray out("prefix");
        QVERIFY(text ? w.writeText(out, QByteArrayView(payload)) : w.writeBinary(out, payload));
        QVERIFY(out.startsWith("prefix")); // appends
        out.remove(0, 6);
        QCOMPARE(out.size(), headerBytes + size);
        QCOMPARE(quint8(out[0]), text ? 0x81 : 0x82);
        QCOMPARE(quint8(out[1]) & 0x80, 0x80); // masked
        QCOMPARE(quint8(out[1]) & 0x7f, len7);
        quint64 length = quint64(len7);
        if (len7 == 126)
            length = (quint8(out[2]) << 8) | quint8(out[3]);
        if (len7 == 127) {
            length = 0;
            for (int i = 2; i < 10; ++i)
                length = (length << 8) | quint8(out[i]);
        }
        QCOMPARE(length, quint64(size));
        // The server side unmasks it back.
        const Outcome o = runWhole(out, {.role = WS::Role::Server});
        QCOMPARE(o.log, text ? textEntry(payload) : binaryEntry(payload));
    }
}

void TestWebSocketCodec::writerMasksWithTheKey()
{
    WS::FrameWriter w;
    w.setMaskSource([] { return 0x37fa213du; });
    QByteArray out;
    QVERIFY(w.writeText(out, QByteArrayView("Hello")));
    // RFC 6455 §5.7's example: a masked "Hello".
    QCOMPARE(out, QByteArray("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"));
    // applyMask at every phase: masking twice restores the bytes.
    const quint8 key[4] = {0x01, 0x80, 0xff, 0x5a};
    for (int offset = 0; offset < 4; ++offset) {
        QByteArray data = repeated(37);
        WS::applyMask(data.data(), data.size(), key, offset);
        for (qsizetype i = 0; i < data.size(); ++i)
            QCOMPARE(quint8(data[i]), quint8(repeated(37)[i] ^ key[(i + offset) % 4]));
        WS::applyMask(data.data(), data.size(), key, offset);
        QCOMPARE(data, repeated(37));
    }
}

void TestWebSocketCodec::writerKeysComeFromTheSystemGenerator()
{
    // Without an injected source each frame gets a fresh key, also across the batches the keys
    // are read in. 100 keys of 32 bits from the system CSPRNG hold two collisions with a
    // probability near 2^-40, taken as a failure.
    WS::FrameWriter w;
    QSet<QByteArray> keys;
    for (int i = 0; i < 100; ++i) {
        QByteArray out;
        QVERIFY(w.writePing(out, "same"));
        QCOMPARE(quint8(out[1]), quint8(0x84));
        QCOMPARE(runWhole(out, {.role = WS::Role::Server}).log, QStringLiteral("ping 'same'"));
        keys.insert(out.sliced(2, 4));
    }
    QVERIFY2(keys.size() >= 99, qPrintable(QString::number(keys.size())));
    // An injected source is used, and clearing it brings the CSPRNG back.
    w.setMaskSource([] { return 0u; });
    QByteArray zero;
    QVERIFY(w.writePing(zero, "same"));
    QCOMPARE(zero, QByteArray("\x89\x84\0\0\0\0same", 10));
    w.setMaskSource({});
    QByteArray again;
    QVERIFY(w.writePing(again, "same"));
    QVERIFY(again.sliced(2, 4) != QByteArray(4, '\0'));
}

void TestWebSocketCodec::writerFragments_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<qsizetype>("fragmentSize");
    QTest::addColumn<int>("frames");
    const QByteArray text("h\xc3\xa9llo w\xc3\xb6rld \xf0\x9f\x98\x80"); // 18 bytes
    QTest::newRow("no fragmentation") << text << qsizetype(0) << 1;
    QTest::newRow("fragment larger than the message") << text << qsizetype(100) << 1;
    QTest::newRow("fragment equal to the message") << text << qsizetype(18) << 1;
    QTest::newRow("fragment one byte short") << text << qsizetype(17) << 2;
    QTest::newRow("fragments of 1 byte") << text << qsizetype(1) << 18;
    QTest::newRow("fragments of 2 bytes (characters cut)") << text << qsizetype(2) << 9;
    QTest::newRow("fragments of 5 bytes") << text << qsizetype(5) << 4;
    QTest::newRow("empty message") << QByteArray() << qsizetype(4) << 1;
    QTest::newRow("large message in 64 KiB fragments") << repeated(200000) << qsizetype(65536) << 4;
}

void TestWebSocketCodec::writerFragments()
{
    QFETCH(QByteArray, message);
    QFETCH(qsizetype, fragmentSize);
    QFETCH(int, frames);
    WS::FrameWriter w;
    for (const bool text : {true, false}) {
        QByteArray out;
        QVERIFY(text ? w.writeText(out, QByteArrayView(message), fragmentSize)
                     : w.writeBinary(out, message, fragmentSize));
        // Walk the frames: the first carries the opcode, the rest are continuations, FIN only on
        // the last.
        int count = 0;
        qsizetype at = 0;
        while (at < out.size()) {
            const quint8 b0 = quint8(out[at]);
            const quint8 b1 = quint8(out[at + 1]) & 0x7f;
            qsizetype len = b1;
            qsizetype header = 6;
            if (b1 == 126) {
                len = (quint8(out[at + 2]) << 8) | quint8(out[at + 3]);
                header = 8;
            } else if (b1 == 127) {
                len = 0;
                for (int i = 2; i < 10; ++i)
                    len = (len << 8) | quint8(out[at + i]);
                header = 14;
            }
            const quint8 op = count == 0 ? (text ? 0x1 : 0x2) : 0x0;
            at += header + len;
            QCOMPARE(b0 & 0x0f, op);
            QCOMPARE(bool(b0 & 0x80), at == out.size());
            ++count;
        }
        QCOMPARE(count, frames);
        QCOMPARE(runWhole(out, {.role = WS::Role::Server}).log,
            text ? textEntry(message) : binaryEntry(message));
    }
    const QString asString = QString::fromUtf8(message);
    QByteArray viaString;
    QVERIFY(w.writeText(viaString, QStringView(asString), fragmentSize));
    QCOMPARE(runWhole(viaString, {.role = WS::Role::Server}).log, textEntry(message));
}

void TestWebSocketCodec::writerTextFromString_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QByteArray>("before"); // already in the output buffer
    const auto times = [](QStringView unit, int n) {
        QString r;
        for (int i = 0; i < n; ++i)
            r += unit;
        return r;
    };
    QTest::newRow("empty") << QString() << QByteArray();
    QTest::newRow("one byte") << QStringLiteral("a") << QByteArray();
    QTest::newRow("125 bytes") << times(u"a", 125) << QByteArray();
    QTest::newRow("126 bytes") << times(u"a", 126) << QByteArray();
    QTest::newRow("123 bytes of 3-byte characters") << times(u"\u20ac", 41) << QByteArray();
    QTest::newRow("126 bytes of 3-byte characters") << times(u"\u20ac", 42) << QByteArray();
    QTest::newRow("surrogate pairs") << times(u"\U0001F600", 40) << QByteArray("xyz");
    QTest::newRow("65535 bytes") << times(u"a", 21845) << QByteArray("prefix");
    QTest::newRow("65536 bytes (64-bit length)") << times(u"a", 65536) << QByteArray();
    QTest::newRow("2-byte characters past the short form")
        << times(u"\u00e9", 21846) << QByteArray("p");
}

// Text given as a QString is encoded straight into the output; the frame must be the one the
// UTF-8 overload writes with the same key, after whatever the buffer held.
void TestWebSocketCodec::writerTextFromString()
{
    QFETCH(QString, text);
    QFETCH(QByteArray, before);
    WS::FrameWriter viaString;
    WS::FrameWriter viaBytes;
    viaString.setMaskSource([] { return 0x5a17c3e9u; });
    viaBytes.setMaskSource([] { return 0x5a17c3e9u; });
    QByteArray a = before;
    QByteArray b = before;
    QVERIFY(viaString.writeText(a, QStringView(text)));
    QVERIFY(viaBytes.writeText(b, QByteArrayView(text.toUtf8())));
    QCOMPARE(a.size(), b.size());
    QVERIFY(a == b);
    QCOMPARE(runWhole(a.sliced(before.size()), {.role = WS::Role::Server}).log,
        textEntry(text.toUtf8()));
}

void TestWebSocketCodec::writerControlFrames()
{
    WS::FrameWriter w;
    QByteArray out;
    QVERIFY(w.writePing(out, QByteArray(125, 'p')));
    QVERIFY(w.writePong(out, ""));
    const QByteArray written = out;
    QVERIFY(!w.writePing(out, QByteArray(126, 'p')));
    QVERIFY(!w.writePong(out, QByteArray(126, 'p')));
    QVERIFY(!w.writeFrame(out, WS::Opcode::Ping, "x", false)); // control frames are not fragmented
    QVERIFY(!w.writeFrame(out, WS::Opcode(0x3), "x"));
    QVERIFY(!w.writeText(out, QByteArrayView("\xc0\x80"))); // not UTF-8
    QCOMPARE(out, written); // refusals write nothing
    QCOMPARE(runWhole(out, {.role = WS::Role::Server}).log,
        QLatin1String("ping '") + escaped(QByteArray(125, 'p')) + QLatin1String("' | pong ''"));
    // Text from a QString with a lone surrogate still goes out as valid UTF-8.
    QByteArray fromString;
    QVERIFY(w.writeText(fromString,
        QStringView(u"a\xd800"
                    "b")));
    QVERIFY(!runWhole(fromString, {.role = WS::Role::Server}).failed);
}

void TestWebSocketCodec::writerClose_data()
{
    QTest::addColumn<int>("code");
    QTest::addColumn<QByteArray>("reason");
    QTest::addColumn<QString>("expected"); // empty: refused
    QTest::newRow("1000") << 1000 << QByteArray() << QStringLiteral("close 1000 ''");
    QTest::newRow("1001 with reason")
        << 1001 << QByteArray("going away") << QStringLiteral("close 1001 'going away'");
    QTest::newRow("4999 with a 123-byte reason")
        << 4999 << repeated(123) << QStringLiteral("close 4999 '%1'").arg(escaped(repeated(123)));
    QTest::newRow("124-byte reason") << 1000 << repeated(124) << QString();
    QTest::newRow("invalid UTF-8 reason") << 1000 << QByteArray("\xed\xa0\x80") << QString();
    QTest::newRow("UTF-8 reason") << 3000 << QByteArray("\xc3\xa9")
                                  << QStringLiteral("close 3000 '\\xc3\\xa9'");
    for (const int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535})
        QTest::addRow("code %d", code) << code << QByteArray() << QString();
}

void TestWebSocketCodec::writerClose()
{
    QFETCH(int, code);
    QFETCH(QByteArray, reason);
    QFETCH(QString, expected);
    WS::FrameWriter w;
    QByteArray out;
    const bool ok = w.writeClose(out, quint16(code), QByteArrayView(reason));
    QCOMPARE(ok, !expected.isEmpty());
    if (!ok) {
        QVERIFY(out.isEmpty());
        return;
    }
    QCOMPARE(runWhole(out, {.role = WS::Role::Server}).log, expected);
    QByteArray empty;
    QVERIFY(w.writeClose(empty));
    QCOMPARE(runWhole(empty, {.role = WS::Role::Server}).log, QStringLiteral("close 1005 ''"));
}

void TestWebSocketCodec::writerServerRoleDoesNotMask()
{
    WS::FrameWriter w(WS::Role::Server);
    QByteArray out;
    QVERIFY(w.writeBinary(out, repeated(300), 100));
    QVERIFY(w.writeClose(out, 1000, QStringView(u"bye")));
    QCOMPARE(quint8(out[1]), quint8(100));
    QCOMPARE(runWhole(out).log, binaryEntry(repeated(300)) + QLatin1String(" | close 1000 'bye'"));
}

QTEST_GUILESS_MAIN(TestWebSocketCodec)
#include "tst_websocketcodec.moc"
