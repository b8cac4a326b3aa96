// Reqivo::Client::Decompressor: Content-Encoding decoding. Every payload is compressed here with
// zlib itself, then decoded whole, one byte at a time and in odd-sized pieces, so results never
// depend on how the body arrives.
#include "client/decompressor.h"
#include "support/gzipbomb.h"

#include <QRandomGenerator>
#include <QTest>

#include <zlib.h>

using Reqivo::Limits;
using Reqivo::Client::Decompressor;
using ReqivoTest::repeatedGzip;
using ReqivoTest::sparseNoise;

namespace {

enum Format { Gzip, Zlib, RawDeflate };

QByteArray compress(const QByteArray &data, Format format, int level = Z_DEFAULT_COMPRESSION)
{
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

StreamResult decodeStreaming(
    const QByteArray &input, qsizetype piece, const Limits &limits, qsizetype keep = 0)
{
    StreamResult r;
    auto decoder = Decompressor::create("gzip", limits, &r.error);
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
};

void TestDecompressor::create_data()
{
    QTest::addColumn<QByteArray>("contentEncoding");
    QTest::addColumn<bool>("created");
    QTest::addColumn<int>("coding");
    QTest::addColumn<QString>("errorPart"); // empty: no error expected
    const int gzip = int(Decompressor::Coding::Gzip);
    const int deflate = int(Decompressor::Coding::Deflate);
    QTest::newRow("gzip") << QByteArray("gzip") << true << gzip << QString();
    QTest::newRow("x-gzip alias") << QByteArray("x-gzip") << true << gzip << QString();
    QTest::newRow("upper case") << QByteArray("GZIP") << true << gzip << QString();
    QTest::newRow("surrounding spaces") << QByteArray("  deflate ") << true << deflate << QString();
    QTest::newRow("deflate") << QByteArray("deflate") << true << deflate << QString();
    QTest::newRow("identity mixed in") << QByteArray("identity, gzip") << true << gzip << QString();
    QTest::newRow("absent") << QByteArray() << false << 0 << QString();
    QTest::newRow("identity") << QByteArray("identity") << false << 0 << QString();
    QTest::newRow("only commas and spaces") << QByteArray(" , ") << false << 0 << QString();
    QTest::newRow("brotli unsupported")
        << QByteArray("br") << false << 0 << QStringLiteral("\"br\"");
    QTest::newRow("zstd unsupported") << QByteArray("zstd") << false << 0 << QStringLiteral("zstd");
    QTest::newRow("compress unsupported")
        << QByteArray("compress") << false << 0 << QStringLiteral("compress");
    QTest::newRow("stacked codings refused")
        << QByteArray("gzip, gzip") << false << 0 << QStringLiteral("several codings");
    QTest::newRow("deflate then gzip refused")
        << QByteArray("deflate, gzip") << false << 0 << QStringLiteral("several codings");
}

void TestDecompressor::create()
{
    QFETCH(QByteArray, contentEncoding);
    QFETCH(bool, created);
    QFETCH(int, coding);
    QFETCH(QString, errorPart);
    QString error = QStringLiteral("stale");
    const auto decoder = Decompressor::create(contentEncoding, Limits(), &error);
    QCOMPARE(bool(decoder), created);
    if (decoder)
        QCOMPARE(int(decoder->coding()), coding);
    if (errorPart.isEmpty())
        QVERIFY2(error.isEmpty(), qPrintable(error));
    else
        QVERIFY2(error.contains(errorPart), qPrintable(error));
    // The error is optional.
    QCOMPARE(bool(Decompressor::create(contentEncoding, Limits(), nullptr)), created);
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

QTEST_GUILESS_MAIN(TestDecompressor)
#include "tst_decompressor.moc"
