// The HTTP proxy's CONNECT exchange without a socket: the request, the strict and bounded
// reading of the proxy's answer (2xx, 407 with its body dropped, refusals, malformed answers)
// and the Proxy-Authorization that answers a 407.
#include "transport/httpproxytunnel.h"

#include <QTest>

using namespace Qt::StringLiterals;
using Reqivo::Endpoint;
using Reqivo::Transport::ConnectAnswer;

namespace {

Endpoint endpoint(const QString &host, quint16 port)
{
    Endpoint e;
    e.host = host;
    e.port = port;
    e.tls = true;
    return e;
}

} // namespace

class TestHttpProxyTunnel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void request_data()
    {
        QTest::addColumn<QString>("host");
        QTest::addColumn<QByteArray>("authorization");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("name") << u"example.com"_s << QByteArray()
                              << QByteArray("CONNECT example.com:443 HTTP/1.1\r\n"
                                            "Host: example.com:443\r\n\r\n");
        QTest::newRow("IPv6 in brackets")
            << u"::1"_s << QByteArray()
            << QByteArray("CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n");
        QTest::newRow("IDN as ACE") << u"bücher.example"_s << QByteArray()
                                    << QByteArray("CONNECT xn--bcher-kva.example:443 HTTP/1.1\r\n"
                                                  "Host: xn--bcher-kva.example:443\r\n\r\n");
        QTest::newRow("with credentials") << u"h"_s << QByteArray("Basic dTpw")
                                          << QByteArray("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n"
                                                        "Proxy-Authorization: Basic dTpw\r\n\r\n");
    }
    void request()
    {
        QFETCH(QString, host);
        QFETCH(QByteArray, authorization);
        QFETCH(QByteArray, expected);
        QCOMPARE(Reqivo::Transport::connectRequest(endpoint(host, 443), authorization), expected);
    }

    void answer_data()
    {
        QTest::addColumn<QList<QByteArray>>("pieces"); // "EOF" for the end of the stream
        QTest::addColumn<int>("state"); // ConnectAnswer::State
        QTest::addColumn<int>("status");
        QTest::addColumn<bool>("reusable");
        using S = ConnectAnswer::State;
        const auto row = [](const char *name, QList<QByteArray> pieces, S state, int status,
                             bool reusable = false) {
            QTest::newRow(name) << pieces << int(state) << status << reusable;
        };
        row("200", {"HTTP/1.1 200 Connection established\r\n\r\n"}, S::Established, 200);
        row("200 in pieces", {"HTTP/1.1 2", "00 OK\r\nVia: x\r", "\n\r\n"}, S::Established, 200);
        row("interim 100 first", {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"},
            S::Established, 200);
        row("2xx with Content-Length: still no body",
            {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"}, S::Established, 200);
        row("head not complete", {"HTTP/1.1 200 OK\r\n"}, S::NeedData, 200);
        row("407 with a body, kept",
            {"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic "
             "realm=x\r\nContent-Length: 4\r\n\r\nnope"},
            S::AuthRequired, 407, true);
        row("407 chunked, kept",
            {"HTTP/1.1 407 P\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
            S::AuthRequired, 407, true);
        row("407 with Connection: close",
            {"HTTP/1.1 407 P\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"}, S::AuthRequired,
            407, false);
        row("407 body until close", {"HTTP/1.1 407 P\r\n\r\nsome", "EOF"}, S::AuthRequired, 407,
            false);
        row("407 cut short", {"HTTP/1.1 407 P\r\nContent-Length: 10\r\n\r\nabc", "EOF"},
            S::AuthRequired, 407, false);
        row("407 body over the bound",
            {"HTTP/1.1 407 P\r\nContent-Length: "
                + QByteArray::number(ConnectAnswer::maxDroppedBody + 1) + "\r\n\r\n"},
            S::AuthRequired, 407, false);
        row("403", {"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"}, S::Refused, 403);
        row("502", {"HTTP/1.1 502 Bad Gateway\r\n\r\n"}, S::Refused, 502);
        row("not HTTP", {"SSH-2.0-OpenSSH\r\n"}, S::Refused, 0);
        row("closed before answering", {"EOF"}, S::Refused, 0);
        row("closed in the head", {"HTTP/1.1 200 OK\r\nVia", "EOF"}, S::Refused, 200);
        row("head over 16 KiB", {"HTTP/1.1 200 OK\r\nX: " + QByteArray(17 * 1024, 'a')}, S::Refused,
            200);
    }
    void answer()
    {
        QFETCH(QList<QByteArray>, pieces);
        QFETCH(int, state);
        QFETCH(int, status);
        QFETCH(bool, reusable);
        ConnectAnswer answer;
        for (const QByteArray &piece : pieces) {
            if (piece == "EOF")
                answer.receiveEof();
            else
                answer.receive(piece);
        }
        QCOMPARE(int(answer.state()), state);
        if (status != 0 && state != int(ConnectAnswer::State::Refused))
            QCOMPARE(answer.status(), status);
        if (state == int(ConnectAnswer::State::AuthRequired))
            QCOMPARE(answer.connectionReusable(), reusable);
        if (state == int(ConnectAnswer::State::Refused))
            QVERIFY(!answer.statusLine().isEmpty());
        if (state == int(ConnectAnswer::State::Established))
            QVERIFY(answer.unconsumed().isEmpty());
    }

    void statusLineForMessages()
    {
        ConnectAnswer answer;
        answer.receive("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n");
        QCOMPARE(answer.statusLine(), u"HTTP/1.1 407 Proxy Authentication Required"_s);
    }

    void bytesAfterTheAnswerAreKept()
    {
        ConnectAnswer answer;
        answer.receive("HTTP/1.1 200 OK\r\n\r\nearly");
        QCOMPARE(answer.state(), ConnectAnswer::State::Established);
        QCOMPARE(answer.unconsumed(), QByteArray("early"));
    }

    void proxyAuthorization_data()
    {
        QTest::addColumn<QString>("user");
        QTest::addColumn<QByteArray>("challenge");
        QTest::addColumn<QByteArray>("prefix"); // empty: no answer
        QTest::newRow("Basic") << u"user"_s << QByteArray("Basic realm=\"p\"")
                               << QByteArray("Basic dXNlcjpzM2NyZXQ=");
        QTest::newRow("Digest SHA-256")
            << u"user"_s
            << QByteArray("Digest realm=\"p\", nonce=\"n\", qop=\"auth\", "
                          "algorithm=SHA-256")
            << QByteArray("Digest ");
        QTest::newRow("first supported of two")
            << u"user"_s << QByteArray("Negotiate, Basic realm=\"p\"") << QByteArray("Basic ");
        QTest::newRow("unknown scheme only")
            << u"user"_s << QByteArray("Negotiate") << QByteArray();
        QTest::newRow("no credentials")
            << QString() << QByteArray("Basic realm=\"p\"") << QByteArray();
    }
    void proxyAuthorization()
    {
        QFETCH(QString, user);
        QFETCH(QByteArray, challenge);
        QFETCH(QByteArray, prefix);
        QNetworkProxy proxy(QNetworkProxy::HttpProxy, u"p"_s, 1);
        if (!user.isEmpty()) {
            proxy.setUser(user);
            proxy.setPassword(u"s3cret"_s);
        }
        Reqivo::Headers headers;
        headers.add("Proxy-Authenticate", challenge);
        Reqivo::Protocol::Auth::DigestState digest;
        const QByteArray value
            = Reqivo::Transport::proxyAuthorization(proxy, headers, "CONNECT", "h:443", &digest);
        if (prefix.isEmpty()) {
            QCOMPARE(value, QByteArray());
        } else {
            QVERIFY2(value.startsWith(prefix), value.constData());
            if (prefix.startsWith("Digest"))
                QVERIFY2(value.contains("uri=\"h:443\""), value.constData());
        }
    }
};

QTEST_GUILESS_MAIN(TestHttpProxyTunnel)
#include "tst_httpproxytunnel.moc"
