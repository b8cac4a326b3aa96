// Aborting a connection attempt or a pool wait through Transport::AbortSignal, one test per
// phase: waiting for a pool slot, name lookup, TCP connect, HTTP CONNECT and SOCKS5 proxy
// handshakes, TLS handshake. Each phase's own timeout is a minute; the abort is fired from a
// zero timer once the phase is seen under way, and the call must end long before a watchdog
// of a few seconds, with RequestError "aborted" and the pool's counts as they were before.
#include "support/qcorotest.h"
#include "testpeers.h"
#include "testresolver.h"
#include "transport/abortsignal_p.h"
#include "transport/asyncconnection_p.h"
#include "transport/asyncconnectionpool_p.h"

#include <Reqivo/asyncconnectionpool.h>
#include <Reqivo/errors.h>

#include <QTest>
#include <QTimer>

#include <memory>
#include <optional>

#ifndef Q_OS_LINUX
#error "tst_asyncconnection_abort needs Linux (a full accept queue drops SYNs)"
#endif

using namespace std::chrono_literals;
using namespace ReqivoTest;
using Reqivo::AsyncConnection;
using Reqivo::AsyncConnectionPool;
using Reqivo::AsyncConnectionPoolPrivate;
using Reqivo::AsyncConnectionPrivate;
using Reqivo::ConnectionLease;
using Reqivo::Transport::AbortSignal;

namespace {

constexpr auto phaseTimeout = 60s; // never what ends a call here
constexpr int watchdogMs = 10000;

struct Outcome
{
    bool done = false;
    std::optional<ConnectionLease> lease;
    std::optional<Reqivo::Error> error;
};

// Runs on the side; the outcome is shared so that nothing dangles if a check fails first.
QCoro::Task<void> acquireInto(AsyncConnectionPool &pool, Reqivo::Endpoint endpoint,
    std::shared_ptr<AbortSignal> abort, std::shared_ptr<Outcome> out, bool fresh = false)
{
    try {
        out->lease = co_await AsyncConnectionPoolPrivate::acquireAbortable(
            pool, endpoint, phaseTimeout, phaseTimeout, std::move(abort), fresh);
    } catch (const Reqivo::ReqivoError &e) {
        out->error = e.error();
    }
    out->done = true;
}

QCoro::Task<void> connectInto(AsyncConnection &connection, Reqivo::Endpoint endpoint,
    std::shared_ptr<AbortSignal> abort, std::shared_ptr<Outcome> out)
{
    try {
        co_await AsyncConnectionPrivate::connectAbortable(
            AsyncConnectionPrivate::get(&connection), endpoint, phaseTimeout, std::move(abort));
    } catch (const Reqivo::ReqivoError &e) {
        out->error = e.error();
    }
    out->done = true;
}

// Empty when \a out is the error of an aborted call that happened \a phase; else what is wrong.
QString abortProblem(const Outcome &out, const QString &phase)
{
    if (!out.done)
        return QStringLiteral("the call has not ended");
    if (out.lease)
        return QStringLiteral("the call succeeded");
    if (!out.error)
        return QStringLiteral("no error");
    if (out.error->kind() != Reqivo::Error::Kind::Request || out.error->detail() != u"aborted")
        return QStringLiteral("wrong error: %1 %2 (%3)")
            .arg(out.error->kindName(out.error->kind()), out.error->message(), out.error->detail());
    const QString expected = QStringLiteral("the request was aborted while ") + phase;
    if (out.error->message() != expected)
        return QStringLiteral("message \"%1\", expected \"%2\"")
            .arg(out.error->message(), expected);
    return {};
}

void abortSoon(const std::shared_ptr<AbortSignal> &abort)
{
    QTimer::singleShot(0, [abort] { abort->abort(); });
}

Reqivo::PoolOptions onePerHost()
{
    Reqivo::PoolOptions options;
    options.maxPerHost = 1;
    return options;
}

//! A server that accepts and never says anything; bytes it receives are kept.
struct SilentServer
{
    LoopbackServer server;
    QByteArray received;

    SilentServer()
        : server([this](QTcpSocket *socket) {
            QObject::connect(socket, &QIODevice::readyRead, socket,
                [this, socket] { received += socket->readAll(); });
        })
    {
    }
};

} // namespace

class TestAsyncConnectionAbort : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void waitingForAPoolSlot()
    {
        LoopbackServer server;
        QVERIFY(server.listen());
        AsyncConnectionPool pool(onePerHost());
        std::optional<ConnectionLease> held;
        RUN_CORO(
            [&]() -> QCoro::Task<> { held = co_await pool.acquire(server.endpoint(), 5s, 5s); }());
        QVERIFY(held && *held);
        const QString before = pool.debugSummary();

        auto abort = std::make_shared<AbortSignal>();
        auto out = std::make_shared<Outcome>();
        acquireInto(pool, server.endpoint(), abort, out);
        QCOMPARE(pool.waitingCount(), 1); // queued: the phase is under way
        QVERIFY(!out->done);
        abortSoon(abort);
        QTRY_VERIFY_WITH_TIMEOUT(out->done, watchdogMs);
        const QString problem = abortProblem(*out,
            QStringLiteral("waiting for a connection to %1").arg(server.endpoint().description()));
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QCOMPARE(pool.debugSummary(), before);
        QCOMPARE(pool.waitingCount(), 0);

        // The aborted caller is gone for good: the returned connection goes idle.
        held->recycle();
        QCOMPARE(pool.idleCount(server.endpoint()), 1);
        QCOMPARE(pool.activeCount(server.endpoint()), 0);
    }

    void abortedAfterBeingServedGivesTheSlotBack()
    {
        LoopbackServer server;
        QVERIFY(server.listen());
        AsyncConnectionPool pool(onePerHost());
        std::optional<ConnectionLease> held;
        RUN_CORO(
            [&]() -> QCoro::Task<> { held = co_await pool.acquire(server.endpoint(), 5s, 5s); }());
        auto abort = std::make_shared<AbortSignal>();
        auto out = std::make_shared<Outcome>();
        acquireInto(pool, server.endpoint(), abort, out);
        QCOMPARE(pool.waitingCount(), 1);
        held->recycle(); // serves the waiter, which resumes from the event loop...
        QCOMPARE(pool.waitingCount(), 0);
        abort->abort(); // ...after it was aborted
        QTRY_VERIFY_WITH_TIMEOUT(out->done, watchdogMs);
        const QString problem = abortProblem(*out,
            QStringLiteral("waiting for a connection to %1").arg(server.endpoint().description()));
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QCOMPARE(pool.idleCount(server.endpoint()), 1);
        QCOMPARE(pool.activeCount(server.endpoint()), 0);
        QCOMPARE(pool.totalCount(), 1);
    }

    void alreadyAbortedEndsAtOnce()
    {
        LoopbackServer server;
        QVERIFY(server.listen());
        AsyncConnectionPool pool;
        auto abort = std::make_shared<AbortSignal>();
        abort->abort();
        auto out = std::make_shared<Outcome>();
        acquireInto(pool, server.endpoint(), abort, out);
        QVERIFY(out->done); // without an event-loop turn
        const QString problem = abortProblem(*out,
            QStringLiteral("waiting for a connection to %1").arg(server.endpoint().description()));
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QCOMPARE(pool.debugSummary(), QStringLiteral("no connections | total=0/100 waiting=0"));
        QCOMPARE(server.acceptedCount(), 0);
    }

    void nameLookup()
    {
        SlowLookups lookups;
        AsyncConnectionPool pool;
        Reqivo::Endpoint endpoint = loopbackEndpoint(80);
        endpoint.host = QStringLiteral("pool.slow.reqivo.test");
        auto abort = std::make_shared<AbortSignal>();
        auto out = std::make_shared<Outcome>();
        acquireInto(pool, endpoint, abort, out);
        QTRY_VERIFY_WITH_TIMEOUT(lookups.started() >= 1, watchdogMs);
        QVERIFY(!out->done);
        QCOMPARE(pool.activeCount(endpoint), 1);
        abortSoon(abort);
        QTRY_VERIFY_WITH_TIMEOUT(out->done, watchdogMs);
        const QString problem = abortProblem(
            *out, QStringLiteral("looking up the host name of http://pool.slow.reqivo.test:80"));
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QCOMPARE(pool.debugSummary(), QStringLiteral("no connections | total=0/100 waiting=0"));
    }

    void tcpConnect()
    {
        RawListener listener(0);
        listener.fill(3);
        QVERIFY2(listener.waitUntilFull(), "the accept queue did not fill");
        AsyncConnectionPool pool;
        auto abort = std::make_shared<AbortSignal>();
        auto out = std::make_shared<Outcome>();
        acquireInto(pool, listener.endpoint(), abort, out);
        QCOMPARE(pool.activeCount(listener.endpoint()), 1); // the SYN is out, and dropped
        QVERIFY(!out->done);
        abortSoon(abort);
        QTRY_VERIFY_WITH_TIMEOUT(out->done, watchdogMs);
        const QString problem = abortProblem(
            *out, QStringLiteral("connecting to %1").arg(listener.endpoint().description()));
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QCOMPARE(pool.debugSummary(), QStringLiteral("no connections | total=0/100 waiting=0"));
    }

    void tcpConnectOfAConnectionItself()
    {
        RawListener listener(0);
        listener.fill(3);
        QVERIFY2(listener.waitUntilFull(), "the accept queue did not fill");
        AsyncConnection connection;
        auto abort = std::make_shared<AbortSignal>();
        auto out = std::make_shared<Outcome>();
        connectInto(connection, listener.endpoint(), abort, out);
        QVERIFY(connection.socket());
        QCOMPARE(connection.socket()->state(), QAbstractSocket::ConnectingState);
        abortSoon(abort);
        QTRY_VERIFY_WITH_TIMEOUT(out->done, watchdogMs);
        const QString problem = abortProblem(
            *out, QStringLiteral("connecting to %1").arg(listener.endpoint().description()));
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QCOMPARE(connection.socket()->state(), QAbstractSocket::UnconnectedState);
        QVERIFY(!connection.isOpen());
    }

    void abortAfterTheConnectIsHarmless()
    {
        LoopbackServer server(LoopbackServer::echo());
        QVERIFY(server.listen());
        auto abort = std::make_shared<AbortSignal>();
        AsyncConnection connection;
        RUN_CORO([&]() -> QCoro::Task<> {
            co_await AsyncConnectionPrivate::connectAbortable(
                AsyncConnectionPrivate::get(&connection), server.endpoint(), 5s, abort);
            abort->abort(); // the connect is over: its handler is gone
            co_await connection.write("still here", 5s);
            CO_COMPARE(co_await connection.read(5s), QByteArray("still here"));
        }());
    }

    void tlsHandshake()
    {
        SilentServer silent; // plain TCP: accepts, never answers the ClientHello
        QVERIFY(silent.server.listen());
        AsyncConnectionPool pool;
        Reqivo::Endpoint endpoint = silent.server.endpoint(true);
        endpoint.tlsOptions = testCaOptions();
        auto abort = std::make_shared<AbortSignal>();
        auto out = std::make_shared<Outcome>();
        acquireInto(pool, endpoint, abort, out);
        // A TLS record (handshake, 0x16) has arrived: the handshake is under way.
        QTRY_VERIFY_WITH_TIMEOUT(silent.received.startsWith('\x16'), watchdogMs);
        QVERIFY(!out->done);
        abortSoon(abort);
        QTRY_VERIFY_WITH_TIMEOUT(out->done, watchdogMs);
        const QString problem = abortProblem(
            *out, QStringLiteral("in the TLS handshake with %1").arg(endpoint.description()));
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QCOMPARE(pool.debugSummary(), QStringLiteral("no connections | total=0/100 waiting=0"));
        // The socket was closed, not left to time out.
        QTRY_VERIFY_WITH_TIMEOUT(silent.server.sockets().isEmpty(), watchdogMs);
    }

    void proxyHandshake_data()
    {
        QTest::addColumn<int>("type");
        QTest::addColumn<QByteArray>("firstBytes");
        QTest::newRow("HTTP CONNECT") << int(QNetworkProxy::HttpProxy) << QByteArray("CONNECT ");
        QTest::newRow("SOCKS5 greeting")
            << int(QNetworkProxy::Socks5Proxy) << QByteArray("\x05", 1);
    }

    void proxyHandshake()
    {
        QFETCH(int, type);
        QFETCH(QByteArray, firstBytes);
        SilentServer proxy; // accepts, never answers the proxy request
        QVERIFY(proxy.server.listen());
        AsyncConnectionPool pool;
        Reqivo::Endpoint endpoint = loopbackEndpoint(closedPort());
        endpoint.proxy = QNetworkProxy(
            QNetworkProxy::ProxyType(type), QStringLiteral("127.0.0.1"), proxy.server.port());
        auto abort = std::make_shared<AbortSignal>();
        auto out = std::make_shared<Outcome>();
        acquireInto(pool, endpoint, abort, out);
        QTRY_VERIFY_WITH_TIMEOUT(proxy.received.startsWith(firstBytes), watchdogMs);
        QVERIFY(!out->done);
        abortSoon(abort);
        QTRY_VERIFY_WITH_TIMEOUT(out->done, watchdogMs);
        const QString problem = abortProblem(*out,
            QStringLiteral("connecting to %1 (TCP connect or proxy handshake)")
                .arg(endpoint.description()));
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QCOMPARE(pool.debugSummary(), QStringLiteral("no connections | total=0/100 waiting=0"));
        QTRY_VERIFY_WITH_TIMEOUT(proxy.server.sockets().isEmpty(), watchdogMs);
    }

    void connectFreshIsAbortableToo()
    {
        SlowLookups lookups;
        AsyncConnectionPool pool;
        Reqivo::Endpoint endpoint = loopbackEndpoint(80);
        endpoint.host = QStringLiteral("fresh.slow.reqivo.test");
        auto abort = std::make_shared<AbortSignal>();
        auto out = std::make_shared<Outcome>();
        acquireInto(pool, endpoint, abort, out, true);
        QTRY_VERIFY_WITH_TIMEOUT(lookups.started() >= 1, watchdogMs);
        abortSoon(abort);
        QTRY_VERIFY_WITH_TIMEOUT(out->done, watchdogMs);
        const QString problem = abortProblem(
            *out, QStringLiteral("looking up the host name of http://fresh.slow.reqivo.test:80"));
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QCOMPARE(pool.totalCount(), 0);
    }

    void abortSignalRunsItsHandlerOnce()
    {
        AbortSignal signal;
        int runs = 0;
        signal.setHandler([&] { ++runs; });
        QVERIFY(!signal.isAborted());
        signal.abort();
        signal.abort();
        QVERIFY(signal.isAborted());
        QCOMPARE(runs, 1);
        signal.setHandler([&] { runs += 10; }); // already aborted: runs at once
        QCOMPARE(runs, 11);
        signal.abort();
        QCOMPARE(runs, 11);
        AbortSignal other;
        other.setHandler([&] { runs += 100; });
        other.clearHandler();
        other.abort();
        QCOMPARE(runs, 11);
    }
};

QTEST_GUILESS_MAIN(TestAsyncConnectionAbort)
#include "tst_asyncconnection_abort.moc"
