// AsyncSession against decompression bombs, buffered and streamed, over Content-Length and
// chunked framing: what the user receives is bounded by Limits::maxBodyBytes counted in decoded
// bytes, and under default Limits the ratio guard stops a bomb long before it exists in memory.
// The bombs are real gzip streams of hundreds of MiB that cost a few hundred KiB on the wire
// (support/gzipbomb.h).
#include "integration/session/faultserver.h"
#include "integration/session/sessiontest.h"
#include "support/gzipbomb.h"

#include <Reqivo/AsyncSession>
#include <Reqivo/Limits>

using namespace Qt::StringLiterals;
using namespace SessionTest;
using Reqivo::AsyncSession;
using Reqivo::RequestOptions;
using Reqivo::Response;

namespace {

// Sends \a body gzip-encoded on every request but /next, with Content-Length or chunked.
void serveGzip(FaultServer &server, const QByteArray &body, bool chunked)
{
    server.setHandler([body, chunked](ServerConnection &c, const ReceivedRequest &r) {
        if (r.target == "/next") {
            c.write(httpResponse(200, "fine"));
            return;
        }
        if (!chunked) {
            c.write(httpResponse(200, body, "Content-Encoding: gzip\r\n"));
            return;
        }
        QByteArray out = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n";
        for (qsizetype at = 0; at < body.size(); at += 16 * 1024) {
            const QByteArray piece = body.mid(at, 16 * 1024);
            out += QByteArray::number(piece.size(), 16) + "\r\n" + piece + "\r\n";
        }
        c.write(out + "0\r\n\r\n");
    });
}

struct Streamed
{
    qint64 delivered = 0;
    Reqivo::Error error; //!< from the request or from a read; null when the body ended cleanly
};

// A streamed GET read to its end or its first error, counting the decoded bytes delivered.
QCoro::Task<Streamed> readStreamed(AsyncSession &session, QUrl url)
{
    Streamed s;
    const Outcome o = co_await attempt(session.get(url, RequestOptions().streaming()));
    if (!o.ok()) {
        s.error = o.error;
        co_return s;
    }
    Response r = o.response;
    while (true) {
        const BytesOutcome piece = co_await attemptBytes(r.readChunk());
        if (!piece.ok()) {
            s.error = piece.error;
            break;
        }
        if (piece.bytes.isEmpty())
            break;
        s.delivered += piece.bytes.size();
    }
    co_return s;
}

} // namespace

class TestDecompressionLimits : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void framings_data()
    {
        QTest::addColumn<bool>("chunked");
        QTest::addColumn<bool>("streamed");
        QTest::newRow("Content-Length, buffered") << false << false;
        QTest::newRow("Content-Length, streamed") << false << true;
        QTest::newRow("chunked, buffered") << true << false;
        QTest::newRow("chunked, streamed") << true << true;
    }

    // 256 MiB at about 930:1 (under the old 1000:1 guard) is ~290 KiB on the wire, well under
    // maxBodyBytes = 1 MiB if that counted encoded bytes. It counts decoded ones: refused, and a
    // streamed reader has received at most the limit.
    void bodyLimitCountsDecodedBytes_data() { framings_data(); }
    void bodyLimitCountsDecodedBytes()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(bool, chunked);
            QFETCH(bool, streamed);
            const QByteArray bomb = ReqivoTest::repeatedGzip(ReqivoTest::sparseNoise(), 256);
            CO_VERIFY(bomb.size() < 512 * 1024);
            FaultServer server;
            serveGzip(server, bomb, chunked);
            AsyncSession session;
            Reqivo::Limits limits;
            limits.maxBodyBytes = 1024 * 1024;
            session.setLimits(limits);
            if (streamed) {
                const Streamed s = co_await readStreamed(session, server.url());
                CO_VERIFY2(!s.error.isNull(), "the bomb must be refused");
                CO_COMPARE(s.error.typeName(), u"InvalidResponseError"_s);
                CO_VERIFY2(
                    s.delivered <= limits.maxBodyBytes, qPrintable(QString::number(s.delivered)));
            } else {
                CO_EXPECT_ERROR(
                    co_await attempt(session.get(server.url())), "InvalidResponseError");
            }
            // The refused body's connection was dropped; the session goes on.
            const Outcome next = co_await attempt(session.get(server.url(u"/next"_s)));
            CO_EXPECT_OK(next);
            CO_COMPARE(next.response.body(), QByteArray("fine"));
        }());
    }

    // Default Limits: no body limit, yet the same kind of bomb stops once the output passes the
    // check threshold, and a streamed reader never got more than a step past it.
    void defaultsStopBombs_data() { framings_data(); }
    void defaultsStopBombs()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(bool, chunked);
            QFETCH(bool, streamed);
            const QByteArray bomb = ReqivoTest::repeatedGzip(ReqivoTest::sparseNoise(), 256);
            FaultServer server;
            serveGzip(server, bomb, chunked);
            AsyncSession session;
            const Reqivo::Limits defaults;
            CO_COMPARE(session.limits(), defaults);
            if (streamed) {
                const Streamed s = co_await readStreamed(session, server.url());
                CO_VERIFY2(!s.error.isNull(), "the bomb must be refused");
                CO_COMPARE(s.error.typeName(), u"InvalidResponseError"_s);
                CO_VERIFY2(s.delivered <= defaults.decompressionCheckThreshold + 64 * 1024,
                    qPrintable(QString::number(s.delivered)));
            } else {
                CO_EXPECT_ERROR(
                    co_await attempt(session.get(server.url())), "InvalidResponseError");
            }
            const Outcome next = co_await attempt(session.get(server.url(u"/next"_s)));
            CO_EXPECT_OK(next);
        }());
    }

    // A body of exactly maxBodyBytes decoded bytes is delivered whole, both ways.
    void bodyAtTheLimitPasses_data() { framings_data(); }
    void bodyAtTheLimitPasses()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(bool, chunked);
            QFETCH(bool, streamed);
            const QByteArray unit = ReqivoTest::sparseNoise();
            FaultServer server;
            serveGzip(server, ReqivoTest::repeatedGzip(unit, 3), chunked);
            AsyncSession session;
            Reqivo::Limits limits;
            limits.maxBodyBytes = 3 * unit.size();
            session.setLimits(limits);
            if (streamed) {
                const Streamed s = co_await readStreamed(session, server.url());
                CO_VERIFY2(s.error.isNull(), qPrintable(s.error.toString()));
                CO_COMPARE(s.delivered, limits.maxBodyBytes);
            } else {
                const Outcome o = co_await attempt(session.get(server.url()));
                CO_EXPECT_OK(o);
                CO_VERIFY(o.response.body() == unit.repeated(3));
            }
        }());
    }
};

QTEST_GUILESS_MAIN(TestDecompressionLimits)
#include "tst_limits_decompression.moc"
