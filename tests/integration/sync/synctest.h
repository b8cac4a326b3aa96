// Helpers for the blocking-class tests: a call's outcome (a response or the error it threw) as
// one value to assert on, the peers' URLs, and waiting for something while letting this thread's
// event loop run (the pool notices a closed idle connection only through it).
//
// Errors are compared by their most specific class name ("ReadTimeout"), so a failure message
// says which exception came instead of the expected one.
#pragma once

#include "support/http2mode.h"
#include "support/outcome.h"
#include "support/peers.h"

#include <Reqivo/errors.h>
#include <Reqivo/response.h>

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QJsonObject>
#include <QTcpServer>
#include <QtTest>

#include <chrono>
#include <exception>

namespace SyncTest {

using namespace std::chrono_literals;

using ReqivoTest::Outcome;

//! Runs \a call (a blocking request) and catches what it throws.
template<typename Call>
Outcome attempt(Call &&call)
{
    Outcome o;
    QElapsedTimer timer;
    timer.start();
    try {
        o.response = call();
    } catch (...) {
        o.error = Reqivo::Error::fromException(std::current_exception());
    }
    o.took = std::chrono::milliseconds(timer.elapsed());
    return o;
}

//! The same for anything else that throws: the error, or a null Error when it did not throw.
template<typename Call>
Reqivo::Error errorOf(Call &&call)
{
    try {
        call();
    } catch (...) {
        return Reqivo::Error::fromException(std::current_exception());
    }
    return {};
}

inline const QHash<QString, QString> &nginxEnv()
{
    static const QHash<QString, QString> env = ReqivoTest::loadPeerEnv(QStringLiteral("nginx"));
    return env;
}
//! nginx's plain HTTP port; over HTTP/2 (support/http2mode.h), its h2 listener.
inline QUrl nginxUrl(const QString &path)
{
    return ReqivoTest::modePeerUrl(nginxEnv(), QStringLiteral("NGINX_HTTP_URL"), path);
}
inline QString nginxValue(const QString &key)
{
    return ReqivoTest::peerValue(nginxEnv(), key);
}

//! httpbin's port; over HTTP/2 (support/http2mode.h), the nginx with h2 in front of it.
inline QUrl httpbinUrl(const QString &path = {})
{
    static const QHash<QString, QString> env = ReqivoTest::loadPeerEnv(QStringLiteral("httpbin"));
    return ReqivoTest::modePeerUrl(env, QStringLiteral("HTTPBIN_URL"), path);
}

inline QJsonObject jsonOf(const Reqivo::Response &r)
{
    return r.json().object();
}

//! httpbin's echo of a request field ("Content-Type"), or an empty string.
inline QString echoedHeader(const Reqivo::Response &r, const QString &name)
{
    return jsonOf(r).value(QStringLiteral("headers")).toObject().value(name).toString();
}

inline QByteArray sha256Hex(const QByteArray &bytes)
{
    return QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex();
}

//! A free port on 127.0.0.1 with nothing listening on it.
inline quint16 closedPort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        qFatal("cannot listen on 127.0.0.1");
    const quint16 port = probe.serverPort();
    probe.close();
    return port;
}
inline QUrl refusedUrl()
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1/").arg(closedPort()));
}

//! Waits until \a condition holds, letting this thread's event loop run.
template<typename Condition>
bool waitUntil(Condition condition, std::chrono::milliseconds limit = 5s)
{
    return QTest::qWaitFor(condition, int(limit.count()));
}

} // namespace SyncTest

//! The outcome is a response (not an error); says which error it was otherwise.
#define EXPECT_OK(outcome) REQIVO_EXPECT_OK_WITH(QVERIFY2, outcome)

//! The outcome is an error of exactly the class \a className ("ReadTimeout").
#define EXPECT_ERROR(outcome, className)                                                           \
    REQIVO_EXPECT_ERROR_WITH(QVERIFY2, QCOMPARE, outcome, className)
