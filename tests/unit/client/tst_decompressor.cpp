// Reqivo::Client::Decompressor: Content-Encoding decoding. Every payload is compressed here with
// zlib, brotli or zstd themselves, then decoded whole, one byte at a time and in odd-sized
// pieces, so results never depend on how the body arrives.
#include "client/decompressor.h"
#include "support/codingbodies.h"
#include "support/gzipbomb.h"

#include <QRandomGenerator>
#include <QTest>

#include <zlib.h>

using Reqivo::Limits;
using Reqivo::Client::Decompressor;
using ReqivoTest::repeatedGzip;
using ReqivoTest::sparseNoise;

namespace {

enum Format { Gzip, Zlib, RawDeflate, Brotli, Zstd };

QByteArray compress(const QByteArray &data, Format format, int level = Z_DEFAULT_COMPRESSION)
{
    if (format == Brotli)
        return ReqivoTest::brotli(data, level == Z_DEFAULT_COMPRESSION ? 5 : qMin(level, 11));
    if (format == Zstd)
        return ReqivoTest::zstd(data, level == Z_DEFAULT_COMPRESSION ? 3 : level);
    z_stream z {};
    const int windowBits = format == Gzip ? 16 + MAX_WBITS
        : format == Zlib                  ? MAX_WBITS
                                          : -MAX_WBITS;
    if (deflateInit2(&z, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        qFatal("deflateInit2 failed");
    QByteArray out(qsizetype(deflateBound(&z, uLong(data.size()))) + 64, Qt::Uninitialized);
    z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(data.constData()));
    z.avail_in = uInt(data.size());
    z.next_out = reinterpret_cast<Bytef *>(out.data());
    z.avail_out = uInt(out.size());
    if (deflate(&z, Z_FINISH) != Z_STREAM_END)
        qFatal("deflate did not finish");
    out.resize(qsizetype(z.total_out));
    deflateEnd(&z);
    return out;
}

// Text that compresses like real pages do (a few times, not a thousand times).
QByteArray sampleText(qsizetype size)
{
    QByteArray text;
    text.reserve(size + 128);
    QRandomGenerator random(42);
    for (int line = 0; text.size() < size; ++line) {
        text += "line " + QByteArray::number(line) + ": the quick brown fox "
            + QByteArray::number(random.generate() % 100000) + " jumps over the lazy dog\n";
    }
    text.truncate(size);
    return text;
}

QByteArray randomBytes(qsizetype size)
{
    QByteArray bytes(size, Qt::Uninitialized);
    QRandomGenerator random(7);
    for (char &c : bytes)
        c = char(random.generate() & 0xff);
    return bytes;
}

struct Result
{
    bool ok = false;
    QByteArray out;
    QString error;
};

// Feeds \a input in pieces of \a piece bytes (0: whole), then finishes.
Result decode(
    QByteArrayView coding, const QByteArray &input, qsizetype piece, const Limits &limits = {})
{
    Result r;
    auto decoder = Decompressor::create(coding, limits, &r.error);
    if (!decoder)
        return r;
    const qsizetype step = piece > 0 ? piece : qMax<qsizetype>(1, input.size());
    for (qsizetype i = 0; i < input.size(); i += step) {
        if (!decoder->feed(
                QByteArrayView(input).sliced(i, qMin(step, input.size() - i)), r.out, &r.error))
            return r;
    }
    r.ok = decoder->finish(r.out, &r.error);
    return r;
}

// What a streaming reader sees: the body in pieces of \a piece bytes, each piece's output
// counted and dropped (nothing accumulates but the count and the first \a keep bytes).
struct StreamResult
{
    bool ok = false;
    qint64 delivered = 0; //!< decoded bytes handed out by feed()
    QByteArray head; //!< the first bytes delivered
    QString error;
    Decompressor::Failure failure = Decompressor::Failure::None;
    QString detail;
    qint64 decoded = 0; //!< Decompressor::decodedBytes() at the end
    qint64 compressed = 0;
};

StreamResult decodeStreaming(const QByteArray &input, qsizetype piece, const Limits &limits,
    qsizetype keep = 0, QByteArrayView coding = "gzip")
{
    StreamResult r;
    auto decoder = Decompressor::create(coding, limits, &r.error);
    if (!decoder)
        return r;
    const qsizetype step = piece > 0 ? piece : qMax<qsizetype>(1, input.size());
    QByteArray out;
    bool ok = true;
    for (qsizetype i = 0; ok && i < input.size(); i += step) {
        ok = decoder->feed(
            QByteArrayView(input).sliced(i, qMin(step, input.size() - i)), out, &r.error);
        r.delivered += out.size();
        if (r.head.size() < keep)
            r.head += out.first(qMin(out.size(), keep - r.head.size()));
        out.clear();
    }
    r.ok = ok && decoder->finish(out, &r.error);
    r.delivered += out.size();
    r.failure = decoder->failure();
    r.detail = decoder->errorDetail();
    r.decoded = decoder->decodedBytes();
    r.compressed = decoder->compressedBytes();
    return r;
}

} // namespace

class TestDecompressor : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void create_data();
    void create();
    void acceptEncodingListsEveryCoding();
    void roundTrip_data();
    void roundTrip();
    void concatenatedGzipMembers_data();
    void concatenatedGzipMembers();
    void emptyBodyWithoutBytes();
    void corrupt_data();
    void corrupt();
    void truncated_data();
    void truncated();
    void feedAfterFailure();
    void bomb_data();
    void bomb();
    void normalBodyPasses();
    void ratioLimitOff();
    void outputIsProducedIncrementally();
    void repeatedGzipIsValid();
    void bodyLimitBoundsDecodedBytes_data();
    void bodyLimitBoundsDecodedBytes();
    void bodyOfExactlyTheLimitPasses();
    void defaultsStopBombs_data();
    void defaultsStopBombs();
    void ratioCheckedOnlyPastThreshold();
    void thresholdOff();
    void failureDetails();

    void splitAtEveryByte_data();
    void splitAtEveryByte();
    void stacks_data();
    void stacks();
    void concatenatedZstdFrames();
    void zstdWindowLimit();
    void codingBombsUnderDefaults_data();
    void codingBombsUnderDefaults();
    void codingBodyLimit_data();
    void codingBodyLimit();
    void innerStageBomb();
    void codingFailureDetails();
};

void TestDecompressor::create_data()
{
    using C = Decompressor::Coding;
    QTest::addColumn<QByteArray>("contentEncoding");
    QTest::addColumn<bool>("created");
    QTest::addColumn<QList<int>>("codings"); // in the order applied
    QTest::addColumn<QString>("errorPart"); // empty: no error expected
    const int gzip = int(C::Gzip);
    const int deflate = int(C::Deflate);
    const int br = int(C::Brotli);
    const int zstd = int(C::Zstd);
    const QList<int> none;
    QTest::newRow("gzip") << QByteArray("gzip") << true << QList {gzip} << QString();
    QTest::newRow("x-gzip alias") << QByteArray("x-gzip") << true << QList {gzip} << QString();
    QTest::newRow("upper case") << QByteArray("GZIP") << true << QList {gzip} << QString();
    QTest::newRow("surrounding spaces")
        << QByteArray("  deflate ") << true << QList {deflate} << QString();
    QTest::newRow("deflate") << QByteArray("deflate") << true << QList {deflate} << QString();
    QTest::newRow("br") << QByteArray("br") << true << QList {br} << QString();
    QTest::newRow("BR") << QByteArray("BR") << true << QList {br} << QString();
    QTest::newRow("zstd") << QByteArray("zstd") << true << QList {zstd} << QString();
    QTest::newRow("stack of 2") << QByteArray("gzip, br") << true << QList {gzip, br} << QString();
    QTest::newRow("stack of 2, no space")
        << QByteArray("br,zstd") << true << QList {br, zstd} << QString();
    QTest::newRow("same coding twice")
        << QByteArray("gzip, gzip") << true << QList {gzip, gzip} << QString();
    QTest::newRow("stack of 3") << QByteArray("deflate, zstd, br") << true
                                << QList {deflate, zstd, br} << QString();
    QTest::newRow("empty list elements")
        << QByteArray(", gzip,, br ,") << true << QList {gzip, br} << QString();
    QTest::newRow("absent") << QByteArray() << false << none << QString();
    QTest::newRow("identity") << QByteArray("identity") << false << none << QString();
    QTest::newRow("only commas and spaces") << QByteArray(" , ") << false << none << QString();
    QTest::newRow("stack of 4 refused") << QByteArray("gzip, br, zstd, deflate") << false << none
                                        << QStringLiteral("4 codings applied on top of each other");
    QTest::newRow("compress unsupported")
        << QByteArray("compress") << false << none << QStringLiteral("\"compress\"");
    QTest::newRow("unknown coding under a known one")
        << QByteArray("x-bzip2, gzip") << false << none << QStringLiteral("\"x-bzip2\"");
    QTest::newRow("unknown coding over known ones")
        << QByteArray("gzip, br, dcb") << false << none << QStringLiteral("\"dcb\"");
    QTest::newRow("identity mixed in refused")
        << QByteArray("identity, gzip") << false << none << QStringLiteral("identity");
    QTest::newRow("identity after a coding refused")
        << QByteArray("br, identity") << false << none << QStringLiteral("identity");
}

void TestDecompressor::create()
{
    QFETCH(QByteArray, contentEncoding);
    QFETCH(bool, created);
    QFETCH(QList<int>, codings);
    QFETCH(QString, errorPart);
    QString error = QStringLiteral("stale");
    const auto decoder = Decompressor::create(contentEncoding, Limits(), &error);
    QCOMPARE(bool(decoder), created);
    if (decoder) {
        QList<int> applied;
        for (const Decompressor::Coding coding : decoder->codings())
            applied.append(int(coding));
        QCOMPARE(applied, codings);
    }
    if (errorPart.isEmpty()) {
        QVERIFY2(error.isEmpty(), qPrintable(error));
    } else {
        QVERIFY2(error.contains(errorPart), qPrintable(error));
        QVERIFY2(error.contains(QLatin1String("unsupported Content-Encoding")), qPrintable(error));
    }
    // The error is optional.
    QCOMPARE(bool(Decompressor::create(contentEncoding, Limits(), nullptr)), created);
}

void TestDecompressor::acceptEncodingListsEveryCoding()
{
    QCOMPARE(Decompressor::acceptEncoding(), QByteArray("gzip, deflate, br, zstd"));
    // Every coding offered is one the decoder takes.
    for (const QByteArray &coding : Decompressor::acceptEncoding().split(','))
        QVERIFY2(Decompressor::create(coding, Limits(), nullptr), coding.constData());
}

void TestDecompressor::roundTrip_data()
{
    QTest::addColumn<QByteArray>("coding");
    QTest::addColumn<int>("format");
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<int>("piece");
    const struct
    {
        const char *label;
        const char *coding;
        Format format;
    } codings[] = {
        {"gzip", "gzip", Gzip},
        {"x-gzip", "x-gzip", Gzip},
        {"deflate (zlib-wrapped)", "deflate", Zlib},
        {"deflate (raw, as some servers send)", "deflate", RawDeflate},
        {"br", "br", Brotli},
        {"zstd", "zstd", Zstd},
    };
    const struct
    {
        const char *label;
        QByteArray data;
    } payloads[] = {
        {"empty", QByteArray()},
        {"one byte", QByteArray("x")},
        {"short text", QByteArray("Hello, compressed world!\n")},
        {"200 KB of text", sampleText(200 * 1024)},
        {"100 KB incompressible", randomBytes(100 * 1024)},
    };
    const struct
    {
        const char *label;
        int piece;
    } feeds[] = {{"whole", 0}, {"1-byte pieces", 1}, {"1000-byte pieces", 1000}};
    for (const auto &c : codings) {
        for (const auto &p : payloads) {
            for (const auto &f : feeds) {
                // Byte-by-byte on the big payloads is slow and adds nothing over 1000-byte pieces
                // beyond the boundaries the short payloads already cover... except headers and
                // trailers, which every payload has: keep them all but the incompressible one.
                if (f.piece == 1 && p.data.size() > 150 * 1024)
                    continue;
                QTest::addRow("%s, %s, %s", c.label, p.label, f.label)
                    << QByteArray(c.coding) << int(c.format) << p.data << f.piece;
            }
        }
    }
}

void TestDecompressor::roundTrip()
{
    QFETCH(QByteArray, coding);
    QFETCH(int, format);
    QFETCH(QByteArray, payload);
    QFETCH(int, piece);
    const QByteArray compressed = compress(payload, Format(format));
    const Result r = decode(coding, compressed, piece);
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.out.size(), payload.size());
    QVERIFY(r.out == payload);
}

void TestDecompressor::concatenatedGzipMembers_data()
{
    QTest::addColumn<int>("piece");
    QTest::newRow("whole") << 0;
    QTest::newRow("1-byte pieces") << 1;
    QTest::newRow("3-byte pieces") << 3;
}

void TestDecompressor::concatenatedGzipMembers()
{
    QFETCH(int, piece);
    // RFC 1952 §2.2: a gzip file is a series of members; `cat a.gz b.gz` decodes to "ab".
    const QByteArray big = sampleText(100 * 1024);
    const QByteArray input = compress("Hello, ", Gzip) + compress(QByteArray(), Gzip)
        + compress("world", Gzip) + compress(big, Gzip);
    const Result r = decode("gzip", input, piece);
    QVERIFY2(r.ok, qPrintable(r.error));
    QVERIFY(r.out == "Hello, world" + big);
}

void TestDecompressor::emptyBodyWithoutBytes()
{
    // "Content-Encoding: gzip" on a body of zero bytes (a HEAD-like empty answer) is no error.
    for (const char *coding : {"gzip", "deflate"}) {
        QString error;
        auto decoder = Decompressor::create(coding, Limits(), &error);
        QVERIFY(decoder);
        QByteArray out;
        QVERIFY(decoder->feed({}, out, &error));
        QVERIFY2(decoder->finish(out, &error), qPrintable(error));
        QVERIFY(out.isEmpty());
    }
}

void TestDecompressor::corrupt_data()
{
    QTest::addColumn<QByteArray>("coding");
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("errorPart");
    const QByteArray text = sampleText(20000);
    const QByteArray gz = compress(text, Gzip);

    QTest::newRow("gzip: not gzip at all") << QByteArray("gzip") << QByteArray("plain text body")
                                           << QStringLiteral("corrupt gzip body");
    QByteArray badCrc = gz;
    badCrc[badCrc.size() - 6] = char(badCrc.at(badCrc.size() - 6) ^ 0x01);
    QTest::newRow("gzip: CRC mismatch")
        << QByteArray("gzip") << badCrc << QStringLiteral("corrupt gzip body");
    QByteArray badLength = gz;
    badLength[badLength.size() - 1] = char(badLength.at(badLength.size() - 1) ^ 0x01);
    QTest::newRow("gzip: length mismatch")
        << QByteArray("gzip") << badLength << QStringLiteral("corrupt gzip body");
    QByteArray flipped = gz;
    flipped[gz.size() / 2] = char(flipped.at(gz.size() / 2) ^ 0x5a);
    QTest::newRow("gzip: damaged compressed data")
        << QByteArray("gzip") << flipped << QStringLiteral("corrupt gzip body");
    QTest::newRow("gzip: garbage after a member") << QByteArray(
        "gzip") << gz + QByteArray("\nGARBAGE") << QStringLiteral("corrupt gzip body");
    QTest::newRow("deflate: garbage")
        << QByteArray("deflate") << QByteArray("\xff\xff\xff\xff garbage", 12)
        << QStringLiteral("corrupt deflate body");
    QTest::newRow("deflate: data after the end")
        << QByteArray("deflate") << compress("abc", Zlib) + QByteArray("more")
        << QStringLiteral("after the end");
    QTest::newRow("deflate: raw stream, data after the end")
        << QByteArray("deflate") << compress("abc", RawDeflate) + QByteArray("x")
        << QStringLiteral("after the end");
    QByteArray badAdler = compress(text, Zlib);
    badAdler[badAdler.size() - 1] = char(badAdler.at(badAdler.size() - 1) ^ 0x01);
    QTest::newRow("deflate: Adler-32 mismatch")
        << QByteArray("deflate") << badAdler << QStringLiteral("corrupt deflate body");
    // A zlib header announcing a preset dictionary (FDICT), which HTTP cannot supply.
    QTest::newRow("deflate: preset dictionary")
        << QByteArray("deflate") << QByteArray("\x78\xbb\x00\x00\x00\x01\x00", 7)
        << QStringLiteral("dictionary");

    const QByteArray br = compress(text, Brotli);
    QTest::newRow("br: not brotli at all")
        << QByteArray("br") << QByteArray("plain text body") << QStringLiteral("corrupt br body");
    QByteArray brFlipped = br;
    brFlipped[br.size() / 2] = char(brFlipped.at(br.size() / 2) ^ 0x5a);
    QTest::newRow("br: damaged compressed data")
        << QByteArray("br") << brFlipped << QStringLiteral("corrupt br body");
    QTest::newRow("br: garbage after the end")
        << QByteArray("br") << br + QByteArray("\nGARBAGE") << QStringLiteral("after the end");
    QTest::newRow("br: a second stream after the end")
        << QByteArray("br") << br + compress("more", Brotli) << QStringLiteral("after the end");
    // WBITS = 0b0010001 with the large-window bit: only the large-window extension, off here.
    QTest::newRow("br: large window asked for")
        << QByteArray("br") << QByteArray("\x11\x3c\x00", 3) << QStringLiteral("corrupt br body");

    const QByteArray zs = compress(text, Zstd);
    QTest::newRow("zstd: not zstd at all") << QByteArray("zstd") << QByteArray("plain text body")
                                           << QStringLiteral("corrupt zstd body");
    QByteArray zsBadChecksum = zs;
    zsBadChecksum[zs.size() - 1] = char(zsBadChecksum.at(zs.size() - 1) ^ 0x01);
    QTest::newRow("zstd: checksum mismatch")
        << QByteArray("zstd") << zsBadChecksum << QStringLiteral("corrupt zstd body");
    QByteArray zsFlipped = zs;
    zsFlipped[zs.size() / 2] = char(zsFlipped.at(zs.size() / 2) ^ 0x5a);
    QTest::newRow("zstd: damaged compressed data")
        << QByteArray("zstd") << zsFlipped << QStringLiteral("corrupt zstd body");
    // libzstd also decodes the pre-1.0 formats (v0.7's magic is 27 b5 2f fd), or not, depending
    // on how the bytes are split: the zstd coding is RFC 8878's format only.
    const QByteArray legacy("\x27\xb5\x2f\xfd\x04\x58\x19\x00\x00\x64\x65\x00\x00\x01\x3b"
                            "\xd5\x53\xdb\xfd\x04\x58\x19\x00\x00\x61\x63\x99\x09\x77\xad",
        30);
    QTest::newRow("zstd: a legacy frame") << QByteArray(
        "zstd") << legacy << QStringLiteral("not a zstd frame (magic number 0xfd2fb527)");
    QTest::newRow("zstd: a legacy frame after a frame")
        << QByteArray("zstd") << zs + legacy << QStringLiteral("not a zstd frame");
    QTest::newRow("zstd: garbage after a frame") << QByteArray(
        "zstd") << zs + QByteArray("\nGARBAGE") << QStringLiteral("corrupt zstd body");

    QTest::newRow("stack: the inner coding corrupt") << QByteArray(
        "gzip, br") << compress("not gzip", Brotli) << QStringLiteral("corrupt gzip body");
    QTest::newRow("stack: the outer coding corrupt")
        << QByteArray("gzip, br") << QByteArray("not brotli") << QStringLiteral("corrupt br body");
    QTest::newRow("stack: garbage after the inner stream")
        << QByteArray("zstd, deflate") << compress(compress("abc", Zstd) + "junk", Zlib)
        << QStringLiteral("corrupt zstd body");
}

void TestDecompressor::corrupt()
{
    QFETCH(QByteArray, coding);
    QFETCH(QByteArray, input);
    QFETCH(QString, errorPart);
    for (const int piece : {0, 1, 5}) {
        const Result r = decode(coding, input, piece);
        QVERIFY2(!r.ok, qPrintable(QStringLiteral("piece %1").arg(piece)));
        QVERIFY2(r.error.contains(errorPart), qPrintable(r.error));
    }
}

void TestDecompressor::truncated_data()
{
    QTest::addColumn<QByteArray>("coding");
    QTest::addColumn<QByteArray>("input");
    const QByteArray text = sampleText(50000);
    const QByteArray gz = compress(text, Gzip);
    const QByteArray zl = compress(text, Zlib);
    const QByteArray raw = compress(text, RawDeflate);
    QTest::newRow("gzip: header only") << QByteArray("gzip") << gz.left(10);
    QTest::newRow("gzip: cut in the middle") << QByteArray("gzip") << gz.left(gz.size() / 2);
    QTest::newRow("gzip: trailer missing") << QByteArray("gzip") << gz.left(gz.size() - 8);
    QTest::newRow("gzip: one trailer byte missing") << QByteArray("gzip") << gz.chopped(1);
    QTest::newRow("gzip: second member cut")
        << QByteArray("gzip") << gz + compress("tail", Gzip).chopped(3);
    QTest::newRow("deflate: one byte") << QByteArray("deflate") << zl.left(1);
    QTest::newRow("deflate: zlib header only") << QByteArray("deflate") << zl.left(2);
    QTest::newRow("deflate: zlib cut in the middle")
        << QByteArray("deflate") << zl.left(zl.size() / 2);
    QTest::newRow("deflate: Adler-32 missing") << QByteArray("deflate") << zl.chopped(4);
    QTest::newRow("deflate: raw cut in the middle")
        << QByteArray("deflate") << raw.left(raw.size() / 2);
    const QByteArray br = compress(text, Brotli);
    QTest::newRow("br: one byte") << QByteArray("br") << br.left(1);
    QTest::newRow("br: cut in the middle") << QByteArray("br") << br.left(br.size() / 2);
    QTest::newRow("br: last byte missing") << QByteArray("br") << br.chopped(1);
    const QByteArray zs = compress(text, Zstd);
    QTest::newRow("zstd: magic only") << QByteArray("zstd") << zs.left(4);
    QTest::newRow("zstd: cut in the middle") << QByteArray("zstd") << zs.left(zs.size() / 2);
    QTest::newRow("zstd: checksum missing") << QByteArray("zstd") << zs.chopped(4);
    QTest::newRow("zstd: second frame cut")
        << QByteArray("zstd") << zs + compress("tail", Zstd).chopped(2);
    QTest::newRow("stack: outer cut") << QByteArray("gzip, br") << compress(gz, Brotli).chopped(1);
    // The outer stream is complete but what it holds is a cut inner stream.
    QTest::newRow("stack: inner cut") << QByteArray("gzip, br") << compress(gz.chopped(1), Brotli);
    QTest::newRow("stack of 3: innermost cut")
        << QByteArray("zstd, deflate, br") << compress(compress(zs.chopped(3), Zlib), Brotli);
}

void TestDecompressor::truncated()
{
    QFETCH(QByteArray, coding);
    QFETCH(QByteArray, input);
    for (const int piece : {0, 1}) {
        const Result r = decode(coding, input, piece);
        QVERIFY2(!r.ok, qPrintable(QStringLiteral("piece %1").arg(piece)));
        QVERIFY2(r.error.contains(QLatin1String("truncated")), qPrintable(r.error));
    }
}

void TestDecompressor::feedAfterFailure()
{
    QString error;
    auto decoder = Decompressor::create("gzip", Limits(), &error);
    QByteArray out;
    QVERIFY(!decoder->feed("not gzip", out, &error));
    error.clear();
    QVERIFY(!decoder->feed(compress("ok", Gzip), out, &error));
    QVERIFY(!error.isEmpty());
    QVERIFY(!decoder->finish(out, &error));
    QVERIFY(out.isEmpty());
}

void TestDecompressor::bomb_data()
{
    QTest::addColumn<QByteArray>("coding");
    QTest::addColumn<int>("format");
    QTest::addColumn<int>("piece");
    QTest::newRow("gzip, whole") << QByteArray("gzip") << int(Gzip) << 0;
    QTest::newRow("gzip, 512-byte pieces") << QByteArray("gzip") << int(Gzip) << 512;
    QTest::newRow("deflate, whole") << QByteArray("deflate") << int(Zlib) << 0;
    QTest::newRow("raw deflate, 1-byte pieces") << QByteArray("deflate") << int(RawDeflate) << 1;
    QTest::newRow("br, whole") << QByteArray("br") << int(Brotli) << 0;
    QTest::newRow("br, 1-byte pieces") << QByteArray("br") << int(Brotli) << 1;
    QTest::newRow("zstd, whole") << QByteArray("zstd") << int(Zstd) << 0;
    QTest::newRow("zstd, 1-byte pieces") << QByteArray("zstd") << int(Zstd) << 1;
}

void TestDecompressor::bomb()
{
    QFETCH(QByteArray, coding);
    QFETCH(int, format);
    QFETCH(int, piece);
    // 10 MB of zeros compress about 1000:1: ~10 KB that would expand to 10 MB. With the ratio
    // checked from the first byte on, every step is checked: the decoder stops within a step of
    // the point where the ratio is exceeded, whatever the pieces and the wrapper.
    const qsizetype bombSize = 10 * 1000 * 1000;
    const QByteArray compressed = compress(QByteArray(bombSize, '\0'), Format(format), 9);
    QVERIFY(compressed.size() < 12 * 1024);
    Limits limits;
    // Brotli and zstd squeeze 10 MB of zeros into a few dozen bytes: 100:1 is exceeded at once.
    limits.decompressionCheckThreshold = 0;
    limits.maxDecompressionRatio = 100;
    const Result r = decode(coding, compressed, piece, limits);
    QVERIFY(!r.ok);
    QVERIFY2(r.error.contains(QLatin1String("decompression bomb")), qPrintable(r.error));
    QVERIFY2(r.error.contains(QLatin1String("100")), qPrintable(r.error));
    // It stops as soon as the ratio is exceeded, long before 10 MB exist in memory.
    QVERIFY2(r.out.size() < bombSize / 10, qPrintable(QString::number(r.out.size())));
}

void TestDecompressor::normalBodyPasses()
{
    const QByteArray text = sampleText(1024 * 1024);
    for (const int piece : {0, 1400}) {
        const Result r = decode("gzip", compress(text, Gzip, 9), piece);
        QVERIFY2(r.ok, qPrintable(r.error));
        QVERIFY(r.out == text);
    }
    // A small but highly compressible body is below the check threshold whatever its ratio.
    const Result small = decode("gzip", compress(QByteArray(60 * 1024, 'a'), Gzip, 9), 0);
    QVERIFY2(small.ok, qPrintable(small.error));
    QCOMPARE(small.out.size(), 60 * 1024);
}

void TestDecompressor::ratioLimitOff()
{
    Limits limits;
    limits.decompressionCheckThreshold = 0;
    const QByteArray zeros(12 * 1024 * 1024, '\0');
    const QByteArray gz = compress(zeros, Gzip, 9);
    for (const int off : {-1, 0}) { // -1 is the documented "no limit"; 0 means the same
        limits.maxDecompressionRatio = off;
        const Result r = decode("gzip", gz, 4096, limits);
        QVERIFY2(r.ok, qPrintable(r.error));
        QVERIFY(r.out == zeros);
    }

    limits.maxDecompressionRatio = 2; // a strict limit trips on ordinary text
    const QByteArray text = sampleText(512 * 1024);
    const Result strict = decode("gzip", compress(text, Gzip, 9), 0, limits);
    QVERIFY(!strict.ok);
    QVERIFY2(strict.error.contains(QLatin1String("decompression bomb")), qPrintable(strict.error));
}

void TestDecompressor::outputIsProducedIncrementally()
{
    // Each piece's output comes out with it: nothing is held back until finish().
    const QByteArray text = sampleText(300 * 1024);
    const QByteArray gz = compress(text, Gzip);
    QString error;
    auto decoder = Decompressor::create("gzip", Limits(), &error);
    QByteArray out;
    QVERIFY(decoder->feed(QByteArrayView(gz).first(gz.size() / 2), out, &error));
    QVERIFY(out.size() > 0);
    QVERIFY(out.size() < text.size());
    QVERIFY(text.startsWith(out));
    QVERIFY(decoder->feed(QByteArrayView(gz).sliced(gz.size() / 2), out, &error));
    QCOMPARE(out.size(), text.size());
    const qsizetype before = out.size();
    QVERIFY(decoder->finish(out, &error));
    QCOMPARE(out.size(), before);
    QCOMPARE(decoder->compressedBytes(), gz.size());
    QCOMPARE(decoder->decodedBytes(), text.size());
}

void TestDecompressor::repeatedGzipIsValid()
{
    // The test's own bomb builder makes a complete, valid gzip stream (CRC and length checked).
    const QByteArray unit = sparseNoise();
    const QByteArray gz = repeatedGzip(unit, 12);
    QVERIFY(gz.size() < 16 * 1024);
    Limits unlimited;
    unlimited.maxDecompressionRatio = -1;
    const Result r = decode("gzip", gz, 777, unlimited);
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.out.size(), unit.size() * 12);
    QVERIFY(r.out == unit.repeated(12));
}

void TestDecompressor::bodyLimitBoundsDecodedBytes_data()
{
    QTest::addColumn<int>("piece");
    QTest::addColumn<int>("ratio");
    QTest::newRow("whole") << 0 << 40;
    QTest::newRow("1000-byte pieces") << 1000 << 40;
    QTest::newRow("1-byte pieces") << 1 << 40;
    QTest::newRow("whole, ratio check off") << 0 << -1;
    QTest::newRow("1000-byte pieces, ratio check off") << 1000 << -1;
}

void TestDecompressor::bodyLimitBoundsDecodedBytes()
{
    QFETCH(int, piece);
    QFETCH(int, ratio);
    // A 256 MiB bomb at about 930:1, below the old 1000:1 guard, with maxBodyBytes = 1 MiB: the
    // user receives exactly the first MiB, and zlib is never asked for more than one byte past
    // it. maxBodyBytes counts what the user receives, not the ~1 KiB on the wire.
    const QByteArray unit = sparseNoise();
    const QByteArray gz = repeatedGzip(unit, 256);
    QVERIFY2(qint64(unit.size()) * 256 / gz.size() > 900,
        qPrintable(QString::number(qint64(unit.size()) * 256 / gz.size())));
    Limits limits;
    limits.maxBodyBytes = 1024 * 1024 + 5;
    limits.maxDecompressionRatio = ratio;
    const StreamResult r = decodeStreaming(gz, piece, limits, 2 * 1024 * 1024);
    QVERIFY(!r.ok);
    QCOMPARE(r.failure, Decompressor::Failure::BodyTooLarge);
    QVERIFY2(r.error.contains(QLatin1String("1048581")), qPrintable(r.error));
    QCOMPARE(r.delivered, limits.maxBodyBytes);
    QVERIFY2(r.decoded <= limits.maxBodyBytes + 1, qPrintable(QString::number(r.decoded)));
    QVERIFY(r.head == (unit + unit).first(limits.maxBodyBytes));
    // The rest of the stream was never even looked at.
    QVERIFY2(r.compressed < gz.size() / 50, qPrintable(QString::number(r.compressed)));
}

void TestDecompressor::bodyOfExactlyTheLimitPasses()
{
    const QByteArray text = sampleText(300 * 1024);
    const QByteArray gz = compress(text, Gzip);
    for (const int piece : {0, 1, 1000}) {
        Limits limits;
        limits.maxBodyBytes = text.size();
        const Result r = decode("gzip", gz, piece, limits);
        QVERIFY2(r.ok, qPrintable(r.error));
        QVERIFY(r.out == text);
        limits.maxBodyBytes = text.size() - 1;
        const Result over = decode("gzip", gz, piece, limits);
        QVERIFY(!over.ok);
        QCOMPARE(over.out.size(), text.size() - 1);
    }
    // maxBodyBytes = 0 takes an empty gzip member (a compressed empty body), nothing more.
    Limits none;
    none.maxBodyBytes = 0;
    QVERIFY(decode("gzip", compress({}, Gzip), 0, none).ok);
    const Result one = decode("gzip", compress("x", Gzip), 0, none);
    QVERIFY(!one.ok);
    QVERIFY(one.out.isEmpty());
}

void TestDecompressor::defaultsStopBombs_data()
{
    QTest::addColumn<QByteArray>("unit");
    QTest::addColumn<int>("piece");
    const QByteArray zeros(1024 * 1024, '\0');
    QTest::newRow("1 GiB of zeros, whole") << zeros << 0;
    QTest::newRow("1 GiB of zeros, 16 KiB pieces") << zeros << 16 * 1024;
    QTest::newRow("1 GiB at 930:1, whole") << sparseNoise() << 0;
    QTest::newRow("1 GiB at 930:1, 1400-byte pieces") << sparseNoise() << 1400;
}

void TestDecompressor::defaultsStopBombs()
{
    QFETCH(QByteArray, unit);
    QFETCH(int, piece);
    // Default Limits (maxBodyBytes unlimited): the ratio guard alone stops the bomb once the
    // output passes the check threshold, long before a gigabyte exists.
    const Limits defaults;
    QCOMPARE(defaults.maxDecompressionRatio, 40);
    QCOMPARE(defaults.decompressionCheckThreshold, 10 * 1024 * 1024);
    const QByteArray gz = repeatedGzip(unit, 1024);
    const StreamResult r = decodeStreaming(gz, piece, defaults);
    QVERIFY(!r.ok);
    QCOMPARE(r.failure, Decompressor::Failure::DecompressionBomb);
    QVERIFY2(r.error.contains(QLatin1String("decompression bomb")), qPrintable(r.error));
    QVERIFY2(
        r.decoded > defaults.decompressionCheckThreshold, qPrintable(QString::number(r.decoded)));
    QVERIFY2(r.decoded <= defaults.decompressionCheckThreshold + Decompressor::stepBytes,
        qPrintable(QString::number(r.decoded)));
    QVERIFY(r.delivered <= r.decoded);
}

void TestDecompressor::ratioCheckedOnlyPastThreshold()
{
    // Below the threshold any ratio is fine: 8 MiB of zeros (1000:1) is a legitimate body.
    const QByteArray zeros(8 * 1024 * 1024, '\0');
    const Result small = decode("gzip", compress(zeros, Gzip, 9), 4096);
    QVERIFY2(small.ok, qPrintable(small.error));
    QCOMPARE(small.out.size(), zeros.size());
    // Past it, an ordinary body compresses far below 40:1 and passes.
    const QByteArray text = sampleText(12 * 1024 * 1024);
    const QByteArray gz = compress(text, Gzip, 1);
    QVERIFY(text.size() / gz.size() < 40);
    const StreamResult big = decodeStreaming(gz, 64 * 1024, Limits(), 16);
    QVERIFY2(big.ok, qPrintable(big.error));
    QCOMPARE(big.delivered, text.size());
}

void TestDecompressor::thresholdOff()
{
    Limits limits;
    limits.decompressionCheckThreshold = -1; // never checked, as Qt's threshold -1
    const StreamResult r
        = decodeStreaming(repeatedGzip(QByteArray(1024 * 1024, '\0'), 24), 0, limits);
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.delivered, 24 * 1024 * 1024);
}

void TestDecompressor::failureDetails()
{
    // The machine-readable detail a caller puts in its Error; never parsed from the message.
    const auto failWith = [](const QByteArray &input, const Limits &limits) {
        auto decoder = Decompressor::create("gzip", limits, nullptr);
        QByteArray out;
        QString error;
        if (decoder->feed(input, out, &error))
            decoder->finish(out, &error);
        return std::make_pair(decoder->failure(), decoder->errorDetail());
    };
    const QByteArray text = sampleText(100 * 1024);
    QCOMPARE(failWith(compress(text, Gzip), Limits()),
        std::make_pair(Decompressor::Failure::None, QString()));
    QCOMPARE(failWith("not gzip", Limits()),
        std::make_pair(Decompressor::Failure::Corrupt, QStringLiteral("Content-Encoding")));
    QCOMPARE(failWith(compress(text, Gzip).chopped(3), Limits()),
        std::make_pair(Decompressor::Failure::Truncated, QStringLiteral("Content-Encoding")));
    Limits small;
    small.maxBodyBytes = 1000;
    QCOMPARE(failWith(compress(text, Gzip), small),
        std::make_pair(Decompressor::Failure::BodyTooLarge, QStringLiteral("BodyTooLarge")));
    Limits strict;
    strict.decompressionCheckThreshold = 0;
    strict.maxDecompressionRatio = 2;
    QCOMPARE(failWith(compress(text, Gzip), strict),
        std::make_pair(
            Decompressor::Failure::DecompressionBomb, QStringLiteral("DecompressionBomb")));
}

namespace {

// \a payload with \a codings applied in order ("gzip, br": gzip first, then br).
QByteArray encodeStack(QByteArray payload, const QList<Format> &codings)
{
    for (const Format format : codings)
        payload = compress(payload, format);
    return payload;
}

} // namespace

void TestDecompressor::splitAtEveryByte_data()
{
    QTest::addColumn<QByteArray>("coding");
    QTest::addColumn<QList<int>>("formats");
    QTest::newRow("gzip") << QByteArray("gzip") << QList<int> {Gzip};
    QTest::newRow("deflate") << QByteArray("deflate") << QList<int> {Zlib};
    QTest::newRow("raw deflate") << QByteArray("deflate") << QList<int> {RawDeflate};
    QTest::newRow("br") << QByteArray("br") << QList<int> {Brotli};
    QTest::newRow("zstd") << QByteArray("zstd") << QList<int> {Zstd};
    QTest::newRow("gzip, br") << QByteArray("gzip, br") << QList<int> {Gzip, Brotli};
    QTest::newRow("br, zstd, deflate")
        << QByteArray("br, zstd, deflate") << QList<int> {Brotli, Zstd, Zlib};
}

void TestDecompressor::splitAtEveryByte()
{
    QFETCH(QByteArray, coding);
    QFETCH(QList<int>, formats);
    // A small body split in two at every byte, and in three around every byte: every header,
    // block and trailer boundary is crossed by a split somewhere.
    const QByteArray payload = sampleText(3000);
    QList<Format> applied;
    for (const int format : formats)
        applied.append(Format(format));
    const QByteArray input = encodeStack(payload, applied);
    QVERIFY(input.size() > 16);
    for (qsizetype i = 0; i <= input.size(); ++i) {
        QString error;
        auto decoder = Decompressor::create(coding, Limits(), &error);
        QVERIFY(decoder);
        QByteArray out;
        const QByteArrayView view(input);
        QVERIFY2(decoder->feed(view.first(i), out, &error), qPrintable(error));
        if (i < input.size()) {
            QVERIFY2(decoder->feed(view.sliced(i, 1), out, &error), qPrintable(error));
            QVERIFY2(decoder->feed(view.sliced(i + 1), out, &error), qPrintable(error));
        }
        QVERIFY2(decoder->finish(out, &error),
            qPrintable(QStringLiteral("split at %1: %2").arg(i).arg(error)));
        QVERIFY2(out == payload, qPrintable(QStringLiteral("split at %1").arg(i)));
    }
}

void TestDecompressor::stacks_data()
{
    QTest::addColumn<QByteArray>("coding");
    QTest::addColumn<QList<int>>("formats"); // in the order applied
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<int>("piece");
    const QByteArray big = sampleText(300 * 1024);
    const struct
    {
        const char *coding;
        QList<int> formats;
    } stacks[] = {
        {"gzip, br", {Gzip, Brotli}},
        {"br, gzip", {Brotli, Gzip}},
        {"zstd, br", {Zstd, Brotli}},
        {"gzip, gzip", {Gzip, Gzip}},
        {"deflate, zstd", {Zlib, Zstd}},
        {"deflate, gzip, zstd", {Zlib, Gzip, Zstd}},
        {"br, br, br", {Brotli, Brotli, Brotli}},
        {"identity-free: gzip,,deflate", {Gzip, RawDeflate}},
    };
    for (const auto &stack : stacks) {
        QByteArray coding(stack.coding);
        if (coding.startsWith("identity-free: "))
            coding = coding.mid(15);
        for (const int piece : {0, 1, 1000}) {
            QTest::addRow("%s, short, piece %d", stack.coding, piece)
                << coding << stack.formats << QByteArray("Hello, stacked world!\n") << piece;
            if (piece != 1)
                QTest::addRow("%s, 300 KB, piece %d", stack.coding, piece)
                    << coding << stack.formats << big << piece;
        }
    }
}

void TestDecompressor::stacks()
{
    QFETCH(QByteArray, coding);
    QFETCH(QList<int>, formats);
    QFETCH(QByteArray, payload);
    QFETCH(int, piece);
    QList<Format> applied;
    for (const int format : formats)
        applied.append(Format(format));
    const QByteArray input = encodeStack(payload, applied);
    const StreamResult r = decodeStreaming(input, piece, Limits(), payload.size(), coding);
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.delivered, payload.size());
    QVERIFY(r.head == payload);
    QCOMPARE(r.compressed, input.size());
    QCOMPARE(r.decoded, payload.size());
}

void TestDecompressor::concatenatedZstdFrames()
{
    // RFC 8878 §3.1: a zstd body may hold several frames, skippable frames among them.
    const QByteArray big = sampleText(100 * 1024);
    QByteArray skippable("\x50\x2a\x4d\x18\x05\x00\x00\x00hello", 13);
    const QByteArray input = compress("Hello, ", Zstd) + skippable + compress(QByteArray(), Zstd)
        + compress("world", Zstd) + compress(big, Zstd);
    for (const int piece : {0, 1, 7}) {
        const Result r = decode("zstd", input, piece);
        QVERIFY2(r.ok, qPrintable(r.error));
        QVERIFY(r.out == "Hello, world" + big);
    }
}

void TestDecompressor::zstdWindowLimit()
{
    // A frame whose header asks for a window of 2^N bytes (no content size, so the window is
    // what the decoder must allocate), holding one raw block "abc".
    const auto frame = [](int windowLog) {
        QByteArray f("\x28\xb5\x2f\xfd", 4); // magic
        f += char(0x00); // no content size, not single-segment, no checksum, no dictionary
        f += char((windowLog - 10) << 3); // Window_Descriptor: exponent, mantissa 0
        f += QByteArray("\x19\x00\x00", 3); // last block, raw, 3 bytes
        return f + "abc";
    };
    QCOMPARE(Decompressor::zstdMaxWindowLog, 27);
    const Result fits = decode("zstd", frame(Decompressor::zstdMaxWindowLog), 0);
    QVERIFY2(fits.ok, qPrintable(fits.error));
    QCOMPARE(fits.out, QByteArray("abc"));
    for (const int windowLog : {Decompressor::zstdMaxWindowLog + 1, 31, 41}) {
        QString error;
        auto decoder = Decompressor::create("zstd", Limits(), &error);
        QByteArray out;
        QVERIFY(!decoder->feed(frame(windowLog), out, &error));
        QVERIFY2(error.contains(QLatin1String("window larger than the 134217728 bytes")),
            qPrintable(error));
        QCOMPARE(decoder->failure(), Decompressor::Failure::Corrupt);
        QCOMPARE(decoder->errorDetail(), QStringLiteral("Content-Encoding"));
        QVERIFY(out.isEmpty());
    }
}

void TestDecompressor::codingBombsUnderDefaults_data()
{
    QTest::addColumn<QByteArray>("coding");
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<int>("piece");
    const QByteArray zeros(1024 * 1024, '\0');
    const QByteArray brZeros = ReqivoTest::brotliRepeated(zeros, 1024); // 1 GiB
    QVERIFY(brZeros.size() < 64 * 1024);
    QTest::newRow("br: 1 GiB of zeros, whole") << QByteArray("br") << brZeros << 0;
    QTest::newRow("br: 1 GiB of zeros, 100-byte pieces") << QByteArray("br") << brZeros << 100;
    const QByteArray zsZeros = ReqivoTest::zstdRepeated(zeros, 1024);
    QTest::newRow("zstd: 1 GiB of zeros, whole") << QByteArray("zstd") << zsZeros << 0;
    QTest::newRow("zstd: 1 GiB of zeros, 1400-byte pieces")
        << QByteArray("zstd") << zsZeros << 1400;
    QTest::newRow("zstd: 1 GiB sparse, 16 KiB pieces")
        << QByteArray("zstd") << ReqivoTest::zstdRepeated(sparseNoise(), 1024) << 16 * 1024;
    // gzip's 1 GiB bomb under br: the last stage's output trips the guard.
    const QByteArray gzInBr = compress(repeatedGzip(zeros, 1024), Brotli);
    QTest::newRow("gzip, br: 1 GiB of zeros") << QByteArray("gzip, br") << gzInBr << 0;
    QTest::newRow("gzip, br: 1 GiB of zeros, 1-byte pieces")
        << QByteArray("gzip, br") << gzInBr << 1;
    QTest::newRow("br, zstd, gzip: 1 GiB of zeros")
        << QByteArray("br, zstd, gzip") << compress(compress(brZeros, Zstd), Gzip) << 0;
}

void TestDecompressor::codingBombsUnderDefaults()
{
    QFETCH(QByteArray, coding);
    QFETCH(QByteArray, input);
    QFETCH(int, piece);
    // Default Limits (maxBodyBytes unlimited): the ratio guard alone stops every coding and
    // stack once the output passes the threshold, long before a gigabyte exists.
    const Limits defaults;
    const StreamResult r = decodeStreaming(input, piece, defaults, 0, coding);
    QVERIFY(!r.ok);
    QCOMPARE(r.failure, Decompressor::Failure::DecompressionBomb);
    QCOMPARE(r.detail, QStringLiteral("DecompressionBomb"));
    QVERIFY2(r.error.contains(QLatin1String("decompression bomb")), qPrintable(r.error));
    QVERIFY2(r.decoded <= defaults.decompressionCheckThreshold + Decompressor::stepBytes,
        qPrintable(QString::number(r.decoded)));
    QVERIFY(r.delivered <= r.decoded);
}

void TestDecompressor::codingBodyLimit_data()
{
    QTest::addColumn<QByteArray>("coding");
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("unit");
    QTest::addColumn<int>("piece");
    const QByteArray unit = sparseNoise();
    const QByteArray br = ReqivoTest::brotliRepeated(unit, 64);
    const QByteArray zs = ReqivoTest::zstdRepeated(unit, 256);
    QTest::newRow("br, whole") << QByteArray("br") << br << unit << 0;
    QTest::newRow("br, 1-byte pieces") << QByteArray("br") << br << unit << 1;
    QTest::newRow("zstd, whole") << QByteArray("zstd") << zs << unit << 0;
    QTest::newRow("zstd, 1000-byte pieces") << QByteArray("zstd") << zs << unit << 1000;
    QTest::newRow("gzip, br") << QByteArray("gzip, br") << compress(repeatedGzip(unit, 256), Brotli)
                              << unit << 0;
    QTest::newRow("gzip, zstd, br, 1-byte pieces")
        << QByteArray("gzip, zstd, br") << compress(compress(repeatedGzip(unit, 64), Zstd), Brotli)
        << unit << 1;
}

void TestDecompressor::codingBodyLimit()
{
    QFETCH(QByteArray, coding);
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, unit);
    QFETCH(int, piece);
    // With the ratio guard off, maxBodyBytes alone bounds what is decoded: the user receives
    // exactly the limit, and the decoder is never asked for more than one byte past it.
    Limits limits;
    limits.maxBodyBytes = 1024 * 1024 + 5;
    limits.maxDecompressionRatio = -1;
    const StreamResult r = decodeStreaming(input, piece, limits, 2 * 1024 * 1024, coding);
    QVERIFY(!r.ok);
    QCOMPARE(r.failure, Decompressor::Failure::BodyTooLarge);
    QCOMPARE(r.detail, QStringLiteral("BodyTooLarge"));
    QVERIFY2(r.error.contains(QLatin1String("1048581")), qPrintable(r.error));
    QCOMPARE(r.delivered, limits.maxBodyBytes);
    QVERIFY2(r.decoded <= limits.maxBodyBytes + 1, qPrintable(QString::number(r.decoded)));
    QVERIFY(r.head == (unit + unit).first(limits.maxBodyBytes));
}

void TestDecompressor::innerStageBomb()
{
    // "zstd, br": br decodes to 1 GiB of skippable zstd frames, which decode to nothing. The
    // final output never grows, but the br stage's output is held to the ratio guard too, so the
    // stack stops past the threshold instead of churning through the gigabyte.
    QByteArray skippable("\x50\x2a\x4d\x18\x00\x00\x10\x00", 8); // 1 MiB of payload follows
    skippable += QByteArray(1024 * 1024, '\0');
    const QByteArray input = ReqivoTest::brotliRepeated(skippable, 1024);
    const Limits defaults;
    const StreamResult r = decodeStreaming(input, 0, defaults, 0, "zstd, br");
    QVERIFY(!r.ok);
    QCOMPARE(r.failure, Decompressor::Failure::DecompressionBomb);
    QVERIFY2(r.error.startsWith(QLatin1String("br body decodes to more than 40 times")),
        qPrintable(r.error));
    QCOMPARE(r.delivered, 0);
    QCOMPARE(r.decoded, 0);
}

void TestDecompressor::codingFailureDetails()
{
    // The same Failure values and details for every coding and for a stack.
    const QByteArray text = sampleText(100 * 1024);
    for (const auto &[coding, format] :
        {std::pair {"br", Brotli}, std::pair {"zstd", Zstd}, std::pair {"gzip, br", Brotli}}) {
        const QByteArray body = QByteArray(coding) == "gzip, br"
            ? compress(compress(text, Gzip), Brotli)
            : compress(text, format);
        const auto failWith = [&](const QByteArray &input, const Limits &limits) {
            auto decoder = Decompressor::create(coding, limits, nullptr);
            QByteArray out;
            QString error;
            if (decoder->feed(input, out, &error))
                decoder->finish(out, &error);
            return std::make_pair(decoder->failure(), decoder->errorDetail());
        };
        QCOMPARE(failWith(body, Limits()), std::make_pair(Decompressor::Failure::None, QString()));
        QCOMPARE(failWith("garbage!", Limits()),
            std::make_pair(Decompressor::Failure::Corrupt, QStringLiteral("Content-Encoding")));
        QCOMPARE(failWith(body.chopped(3), Limits()),
            std::make_pair(Decompressor::Failure::Truncated, QStringLiteral("Content-Encoding")));
        Limits small;
        small.maxBodyBytes = 1000;
        QCOMPARE(failWith(body, small),
            std::make_pair(Decompressor::Failure::BodyTooLarge, QStringLiteral("BodyTooLarge")));
        Limits strict;
        strict.decompressionCheckThreshold = 0;
        strict.maxDecompressionRatio = 2;
        QCOMPARE(failWith(body, strict),
            std::make_pair(
                Decompressor::Failure::DecompressionBomb, QStringLiteral("DecompressionBomb")));
    }
}

QTEST_GUILESS_MAIN(TestDecompressor)
#include "tst_decompressor.moc"
