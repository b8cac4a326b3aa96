// AsyncConnection over plain TCP: connect, write, read, close, and every way each can fail,
// against scripted peers on 127.0.0.1.
#include "support/qcorotest.h"
#include "testpeers.h"

#include <Reqivo/asyncconnection.h>
#include <Reqivo/errors.h>

#include <QSignalSpy>
#include <QTest>
#include <QThread>

#include <atomic>
#include <memory>

// Two tests drive raw kernel sockets and rely on Linux behaviour (SYNs dropped when the accept
// queue is full; unread bytes piling up in the kernel): elsewhere this must fail to build
// rather than pass with those checks skipped.
#ifndef Q_OS_LINUX
#error "tst_asyncconnection needs Linux"
#endif

using namespace std::chrono_literals;
using namespace ReqivoTest;
using Reqivo::AsyncConnection;

namespace {

// Reads until \a size bytes arrived (TCP may split them) or end of stream.
QCoro::Task<QByteArray> readAtLeast(AsyncConnection &connection, qsizetype size)
{
    QByteArray data;
    while (data.size() < size) {
        const QByteArray chunk = co_await connection.read(5s);
        if (chunk.isEmpty())
            break;
        data += chunk;
    }
    co_return data;
}

} // namespace

class TestAsyncConnection : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void roundTrip()
    {
        LoopbackServer server(LoopbackServer::echo());
        QVERIFY(server.listen());
        RUN_CORO([&]() -> QCoro::Task<> {
            AsyncConnection connection;
            co_await connection.connectToHost(server.endpoint(), 5s);
            CO_VERIFY(connection.isOpen());
            CO_VERIFY(!connection.isEncrypted());
            CO_VERIFY(connection.endpoint() == server.endpoint());
            CO_VERIFY(connection.socket() != nullptr);
            CO_COMPARE(
                connection.socket()->socketOption(QAbstractSocket::LowDelayOption).toInt(), 1);

            co_await connection.write("GET / HTTP/1.1\r\n\r\n", 5s);
            CO_COMPARE(co_await readAtLeast(connection, 18), QByteArray("GET / HTTP/1.1\r\n\r\n"));
            // The same connection carries the next exchange.
            co_await connection.write("again", 5s);
            CO_COMPARE(co_await readAtLeast(connection, 5), QByteArray("again"));
        }());
    }

    void idsAreUniqueAndUseCountCounts()
    {
        AsyncConnection a;
        AsyncConnection b;
        QVERIFY(a.id() != b.id());
        QCOMPARE(a.useCount(), 0);
        a.markUsed();
        a.markUsed();
        QCOMPARE(a.useCount(), 2);
        QVERIFY(!a.isOpen());
        QVERIFY(!a.isUsableForReuse());
        QCOMPARE(a.socket(), nullptr);
    }

    void readFastPathDoesNotSuspend()
    {
        LoopbackServer server(LoopbackServer::sendThenClose("ready", false));
        QVERIFY(server.listen());
        RUN_CORO([&]() -> QCoro::Task<> {
            AsyncConnection connection;
            co_await connection.connectToHost(server.endpoint(), 5s);
            CO_VERIFY(
                co_await eventually([&] { return connection.socket()->bytesAvailable() == 5; }));
            auto read = connection.read(5s);
            CO_VERIFY2(read.isReady(), "buffered bytes must be returned without suspending");
            CO_COMPARE(co_await read, QByteArray("ready"));
        }());
    }

    void smallWriteCompletesWithoutSuspending()
    {
        LoopbackServer server;
        QVERIFY(server.listen());
        RUN_CORO([&]() -> QCoro::Task<> {
            AsyncConnection connection;
            co_await connection.connectToHost(server.endpoint(), 5s);
            auto write = connection.write(QByteArray(64 * 1024, 'x'), 5s);
            CO_VERIFY(write.isReady());
            co_await write;
            // flush() handed the bytes to the kernel already: nothing waits in Qt's buffer.
            CO_COMPARE(connection.socket()->bytesToWrite(), qint64(0));
        }());
    }

    void endOfStreamIsAnEmptyRead()
    {
        LoopbackServer server(LoopbackServer::sendThenClose("bye"));
        QVERIFY(server.listen());
        RUN_CORO([&]() -> QCoro::Task<> {
            AsyncConnection connection;
            QSignalSpy closed(&connection, &AsyncConnection::closed);
            co_await connection.connectToHost(server.endpoint(), 5s);
            CO_COMPARE(co_await readAtLeast(connection, 3), QByteArray("bye"));
            CO_COMPARE(co_await connection.read(5s), QByteArray());
            CO_COMPARE(co_await connection.read(5s), QByteArray()); // and it stays there
            CO_VERIFY(!connection.isOpen());
            CO_VERIFY(!connection.isUsableForReuse());
            CO_COMPARE(closed.count(), 1);
            const auto error = co_await thrown<Reqivo::NetworkError>(connection.write("x", 1s));
            CO_VERIFY(error);
            CO_VERIFY2(error->message().contains(QLatin1String("peer closed")),
                qPrintable(error->message()));
        }());
    }

    void connectionRefused()
    {
        RUN_CORO([&]() -> QCoro::Task<> {
            const Reqivo::Endpoint endpoint = loopbackEndpoint(closedPort());
            AsyncConnection connection;
            const auto error
                = co_await thrown<Reqivo::NetworkError>(connection.connectToHost(endpoint, 5s));
            CO_VERIFY(error);
            CO_COMPARE(error->kind(), Reqivo::Error::Kind::Network);
            CO_COMPARE(error->message(),
                QStringLiteral("connection refused by http://127.0.0.1:%1").arg(endpoint.port));
            CO_COMPARE(
                error->url(), QUrl(QStringLiteral("http://127.0.0.1:%1").arg(endpoint.port)));
            CO_VERIFY(!connection.isOpen());
        }());
    }

    void invalidEndpoint()
    {
        RUN_CORO([&]() -> QCoro::Task<> {
            AsyncConnection connection;
            const auto error = co_await thrown<Reqivo::NetworkError>(
                connection.connectToHost(Reqivo::Endpoint(), 1s));
            CO_VERIFY(error);
        }());
    }

    void connectTwiceIsAnError()
    {
        LoopbackServer server;
        QVERIFY(server.listen());
        RUN_CORO([&]() -> QCoro::Task<> {
            AsyncConnection connection;
            co_await connection.connectToHost(server.endpoint(), 5s);
            const auto error = co_await thrown<Reqivo::NetworkError>(
                connection.connectToHost(server.endpoint(), 5s));
            CO_VERIFY(error);
            CO_VERIFY(connection.isOpen());
        }());
    }

    void connectTimeoutWhenTheAcceptQueueIsFull()
    {
        RawListener listener(0);
        listener.fill(3);
        QVERIFY2(listener.waitUntilFull(), "the accept queue did not fill");
        RUN_CORO([&]() -> QCoro::Task<> {
            AsyncConnection connection;
            QElapsedTimer clock;
            clock.start();
            const auto error = co_await thrown<Reqivo::ConnectTimeout>(
                connection.connectToHost(listener.endpoint(), 300ms));
            CO_VERIFY2(error, "the connect should hang while the accept queue is full");
            CO_VERIFY(clock.elapsed() >= 250);
            CO_COMPARE(error->message(),
                QStringLiteral("connecting to http://127.0.0.1:%1 timed out after 300 ms")
                    .arg(listener.port()));
            CO_VERIFY(!connection.isOpen());
        }());
    }

    void readTimeoutLeavesTheConnectionOpen()
    {
        LoopbackServer server;
        QVERIFY(server.listen());
        RUN_CORO([&]() -> QCoro::Task<> {
            AsyncConnection connection;
            co_await connection.connectToHost(server.endpoint(), 5s);
            QElapsedTimer clock;
            clock.start();
            const auto error = co_await thrown<Reqivo::ReadTimeout>(connection.read(150ms));
            CO_VERIFY(error);
            CO_VERIFY(clock.elapsed() >= 100);
            CO_COMPARE(error->message(),
                QStringLiteral("no data from http://127.0.0.1:%1 within 150 ms")
                    .arg(server.port()));
            CO_VERIFY(connection.isOpen());
            // Late bytes are still delivered to the next read.
            CO_VERIFY(co_await eventually([&] { return server.last() != nullptr; }));
            server.last()->write("late");
            CO_COMPARE(co_await readAtLeast(connection, 4), QByteArray("late"));
        }());
    }

    void noTimeoutMeansWaitForEver()
    {
        LoopbackServer server;
        QVERIFY(server.listen());
        RUN_CORO([&]() -> QCoro::Task<> {
            AsyncConnection connection;
            co_await connection.connectToHost(server.endpoint(), Reqivo::Timeout::noLimit);
            QTimer::singleShot(100, &server, [&] { server.last()->write("eventually"); });
            CO_COMPARE(co_await readAtLeast(connection, 10), QByteArray("eventually"));
            auto read = connection.read(Reqivo::Timeout::noLimit);
            QTimer::singleShot(100, &server, [&] { server.last()->write("x"); });
            CO_COMPARE(co_await read, QByteArray("x"));
        }());
    }

    // Zero is "no wait" (timeout.h): a read with nothing buffered is a ReadTimeout at once (the
    // server, on this thread, has not run since) and the connection stays usable.
    void zeroTimeoutDoesNotWait()
    {
        LoopbackServer server;
        QVERIFY(server.listen());
        RUN_CORO([&]() -> QCoro::Task<> {
            AsyncConnection connection;
            co_await connection.connectToHost(server.endpoint(), 5s);
            const auto nothing = co_await thrown<Reqivo::ReadTimeout>(connection.read(0ms));
            CO_VERIFY(nothing);
            CO_VERIFY(connection.isOpen());
            CO_VERIFY(co_await eventually([&] { return server.last() != nullptr; }));
            server.last()->write("here");
            CO_COMPARE(co_await readAtLeast(connection, 4), QByteArray("here"));
        }());
    }

    void writeBackpressureTimesOutWhenThePeerDoesNotRead()
    {
        RawListener listener(8); // the kernel accepts, nobody ever reads
        RUN_CORO([&]() -> QCoro::Task<> {
            AsyncConnection connection;
            co_await connection.connectToHost(listener.endpoint(), 5s);
            const QByteArray chunk(1024 * 1024, 'u');
            qint64 sent = 0;
            std::optional<Reqivo::WriteTimeout> error;
            while (!error && sent < 1024ll * 1024 * 1024) {
                error = co_await thrown<Reqivo::WriteTimeout>(connection.write(chunk, 200ms));
                sent += chunk.size();
                // Whatever happens, Qt never holds much more than the high-water mark.
                CO_VERIFY(connection.socket()->bytesToWrite()
                    <= AsyncConnection::writeHighWaterMark + chunk.size());
            }
            CO_VERIFY2(error, "writes must stall once the peer's window is closed");
            CO_VERIFY2(error->message().startsWith(
                           QStringLiteral("no progress writing to http://127.0.0.1:%1 for 200 ms")
                               .arg(listener.port())),
                qPrintable(error->message()));
            CO_VERIFY(connection.isOpen());
        }());
    }

    void peerResetAfterPartialData()
    {
        // The reset follows the client's first bytes: a reset before the client has even seen
        // its connect complete makes Qt 6.4 retry the connect in a loop.
        LoopbackServer server([](QTcpSocket *socket) {
            QObject::connect(socket, &QIODevice::readyRead, socket, [socket] {
                socket->write("partial");
                socket->flush();
                resetOnClose(socket);
                socket->abort();
            });
        });
        QVERIFY(server.listen());
        RUN_CORO([&]() -> QCoro::Task<> {
            AsyncConnection connection;
            co_await connection.connectToHost(server.endpoint(), 5s);
            co_await connection.write("go", 5s);
            // Qt reports a reset on read like a close (QNativeSocketEngine maps ECONNRESET to
            // end of stream); what arrived before it is still delivered, then the stream ends.
            const QByteArray data = co_await readAtLeast(connection, 7);
            CO_VERIFY2(data == "partial" || data.isEmpty(), data.constData());
            CO_COMPARE(co_await connection.read(2s), QByteArray());
            CO_VERIFY(!connection.isOpen());
            const auto error = co_await thrown<Reqivo::NetworkError>(connection.write("more", 1s));
            CO_VERIFY(error);
        }());
    }

    void peerResetWhileWritingIsANetworkError()
    {
        LoopbackServer server([](QTcpSocket *socket) {
            socket->setReadBufferSize(4096);
            QObject::connect(socket, &QIODevice::readyRead, socket, [socket] {
                resetOnClose(socket);
                socket->abort();
            });
        });
        QVERIFY(server.listen());
        RUN_CORO([&]() -> QCoro::Task<> {
            AsyncConnection connection;
            co_await connection.connectToHost(server.endpoint(), 5s);
            const QByteArray chunk(256 * 1024, 'r');
            std::optional<Reqivo::NetworkError> error;
            for (int i = 0; i < 4096 && !error; ++i)
                error = co_await thrown<Reqivo::NetworkError>(connection.write(chunk, 2s));
            CO_VERIFY2(error, "writing to a reset connection must fail");
            CO_COMPARE(error->kind(), Reqivo::Error::Kind::Network);
            CO_VERIFY2(error->message().contains(QStringLiteral("127.0.0.1:%1").arg(server.port())),
                qPrintable(error->message()));
        }());
    }

    void closeWakesAPendingRead_data()
    {
        QTest::addColumn<bool>("graceful");
        QTest::newRow("close()") << true;
        QTest::newRow("abort()") << false;
    }

    void closeWakesAPendingRead()
    {
        QFETCH(bool, graceful);
        LoopbackServer server;
        QVERIFY(server.listen());
        RUN_CORO([&]() -> QCoro::Task<> {
            AsyncConnection connection;
            QSignalSpy closed(&connection, &AsyncConnection::closed);
            co_await connection.connectToHost(server.endpoint(), 5s);
            auto read = connection.read(5s);
            CO_VERIFY(!read.isReady());
            graceful ? connection.close() : connection.abort();
            const auto error = co_await thrown<Reqivo::NetworkError>(std::move(read));
            CO_VERIFY(error);
            CO_VERIFY2(error->message().contains(QLatin1String("closed locally")),
                qPrintable(error->message()));
            CO_VERIFY(!connection.isOpen());
            CO_COMPARE(closed.count(), 0); // closed() is for the peer's doing, not ours
            const auto again = co_await thrown<Reqivo::NetworkError>(connection.read(1s));
            CO_VERIFY(again);
        }());
    }

    void destroyingWakesAPendingRead()
    {
        LoopbackServer server;
        QVERIFY(server.listen());
        RUN_CORO([&]() -> QCoro::Task<> {
            auto connection = std::make_unique<AsyncConnection>();
            co_await connection->connectToHost(server.endpoint(), 5s);
            auto read = connection->read(5s);
            auto write = connection->write("still fine", 5s);
            CO_VERIFY(write.isReady());
            connection.reset();
            const auto error = co_await thrown<Reqivo::NetworkError>(std::move(read));
            CO_VERIFY(error);
            CO_COMPARE(error->message(), QStringLiteral("connection was destroyed while reading"));
        }());
    }

    void destroyingFromInsideTheResumedReader()
    {
        // The reader is resumed straight from readyRead; deleting the connection there must
        // not pull the socket out from under Qt's signal emission.
        LoopbackServer server;
        QVERIFY(server.listen());
        RUN_CORO([&]() -> QCoro::Task<> {
            auto *connection = new AsyncConnection;
            co_await connection->connectToHost(server.endpoint(), 5s);
            CO_VERIFY(co_await eventually([&] { return server.last() != nullptr; }));
            QTimer::singleShot(20, &server, [&] { server.last()->write("data"); });
            const QByteArray data = co_await connection->read(5s);
            delete connection;
            CO_COMPARE(data, QByteArray("data"));
            co_await settle(); // the socket's deferred deletion runs
        }());
    }

    void reuseCheckSeesWhatTheEventLoopHasNotYet_data()
    {
        QTest::addColumn<QString>("serverAction");
        QTest::newRow("nothing happened") << QString();
        QTest::newRow("server sent unsolicited bytes") << QStringLiteral("send");
        QTest::newRow("server closed the connection") << QStringLiteral("close");
    }

    void reuseCheckSeesWhatTheEventLoopHasNotYet()
    {
        QFETCH(QString, serverAction);
        LoopbackServer server;
        QVERIFY(server.listen());
        RUN_CORO([&]() -> QCoro::Task<> {
            AsyncConnection connection;
            co_await connection.connectToHost(server.endpoint(), 5s);
            CO_VERIFY(co_await eventually([&] { return server.last() != nullptr; }));
            CO_VERIFY(connection.isUsableForReuse());
            // The server acts and the client checks at once, before its event loop ran: only
            // the kernel knows, and the non-blocking peek asks it.
            if (serverAction == QLatin1String("send")) {
                server.last()->write("HTTP/1.1 408 Request Timeout\r\n\r\n");
                server.last()->flush();
            } else if (serverAction == QLatin1String("close")) {
                server.last()->disconnectFromHost();
            }
            const bool expectUsable = serverAction.isEmpty();
            CO_COMPARE(connection.isUsableForReuse(), expectUsable);
            // And after the event loop delivered it: the bytes read into the socket's buffer,
            // the close seen. With nothing to deliver, what is queued runs.
            if (serverAction == QLatin1String("send"))
                CO_VERIFY(
                    co_await eventually([&] { return connection.socket()->bytesAvailable() > 0; }));
            else if (serverAction == QLatin1String("close"))
                CO_VERIFY(co_await eventually([&] { return !connection.isOpen(); }));
            else
                co_await eventsFlushed();
            CO_COMPARE(connection.isUsableForReuse(), expectUsable); // and after it ran
        }());
    }

    void closedSignalWhenThePeerClosesAnIdleConnection()
    {
        LoopbackServer server;
        QVERIFY(server.listen());
        RUN_CORO([&]() -> QCoro::Task<> {
            AsyncConnection connection;
            QSignalSpy closed(&connection, &AsyncConnection::closed);
            co_await connection.connectToHost(server.endpoint(), 5s);
            CO_VERIFY(co_await eventually([&] { return server.last() != nullptr; }));
            server.last()->disconnectFromHost();
            CO_VERIFY(co_await eventually([&] { return closed.count() == 1; }));
            CO_VERIFY(!connection.isOpen());
        }());
    }

    void idleConnectionMovesBetweenThreads()
    {
        LoopbackServer server(LoopbackServer::echo());
        QVERIFY(server.listen());
        AsyncConnection connection;
        RUN_CORO([&]() -> QCoro::Task<> {
            co_await connection.connectToHost(server.endpoint(), 5s);
            co_await connection.write("before", 5s);
            CO_COMPARE(co_await readAtLeast(connection, 6), QByteArray("before"));
        }());
        // Parked in no thread (what a shared pool does), then pulled into a worker thread that
        // uses it and hands it back.
        connection.moveToThread(nullptr);
        QCOMPARE(connection.socket()->thread(), nullptr);
        QThread worker;
        worker.start();
        QObject inWorker;
        inWorker.moveToThread(&worker);
        QByteArray echoedInWorker;
        std::atomic<bool> done = false;
        QMetaObject::invokeMethod(&inWorker, [&] {
            connection.moveToThread(QThread::currentThread());
            try {
                echoedInWorker = ::ReqivoTest::runCoroutine([&]() -> QCoro::Task<QByteArray> {
                    co_await connection.write("worker", 5s);
                    co_return co_await readAtLeast(connection, 6);
                }());
            } catch (const std::exception &e) {
                qWarning("in the worker: %s", e.what());
            }
            connection.moveToThread(nullptr);
            done = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(done, 10000); // this thread's event loop runs the server
        worker.quit();
        worker.wait();
        QCOMPARE(echoedInWorker, QByteArray("worker"));
        connection.moveToThread(QThread::currentThread());
        QCOMPARE(connection.socket()->thread(), QThread::currentThread());
        RUN_CORO([&]() -> QCoro::Task<> {
            CO_VERIFY(connection.isUsableForReuse());
            co_await connection.write("after", 5s);
            CO_COMPARE(co_await readAtLeast(connection, 5), QByteArray("after"));
        }());
    }

    void operationsBeforeConnectFail()
    {
        RUN_CORO([&]() -> QCoro::Task<> {
            AsyncConnection connection;
            CO_VERIFY(co_await thrown<Reqivo::NetworkError>(connection.read(1s)));
            CO_VERIFY(co_await thrown<Reqivo::NetworkError>(connection.write("x", 1s)));
            connection.close(); // harmless
            connection.abort();
        }());
    }
};

QTEST_GUILESS_MAIN(TestAsyncConnection)
#include "tst_asyncconnection.moc"
