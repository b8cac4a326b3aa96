// Issue 14 from QML: HttpClient's retry setting and per-request retry option, attempts on the
// response and on a rejection's error, per-phase timings on the response, Digest through
// authScheme (against httpbin's /digest-auth), and the refusal of bad settings.
#include "loopbackserver.h"

#include "support/peers.h"

#include <Reqivo/AsyncSession>

#include <QCryptographicHash>
#include <QFile>
#include <QQmlComponent>
#include <QQmlEngine>
#include <QRegularExpression>
#include <QSslCertificate>
#include <QSslKey>
#include <QTcpServer>
#include <QTest>

#include <memory>
#include <optional>

using QmlTest::httpResponse;
using QmlTest::LoopbackServer;
using QmlTest::SeenRequest;

namespace {

constexpr int waitMs = 20000;

// A server whose first \a failures answers are 503, then 200 "done".
LoopbackServer::Handler flaky(int failures, const QByteArray &extra = {})
{
    auto served = std::make_shared<int>(0);
    return [served, failures, extra](QTcpSocket *s, const SeenRequest &) {
        if ((*served)++ < failures)
            s->write(httpResponse(503, "Service Unavailable", extra, "busy"));
        else
            s->write(httpResponse(200, "OK", {}, "done"));
    };
}

quint16 closedPort()
{
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0))
        return 0;
    const quint16 port = server.serverPort();
    server.close();
    return port;
}

} // namespace

class tst_QmlResilience : public QObject
{
    Q_OBJECT

private:
    QQmlEngine *m_engine = nullptr;

    std::unique_ptr<QObject> load(
        const QByteArray &clientBody, const QByteArray &body, const QUrl &server)
    {
        const QByteArray qml = "import Reqivo\nQtObject {\n"
                               "    required property url server\n"
                               "    property HttpClient client: HttpClient { baseUrl: server\n"
            + clientBody + "\n}\n" + body + "\n}\n";
        QQmlComponent component(m_engine);
        component.setData(
            qml, QUrl::fromLocalFile(QStringLiteral(REQIVO_QML_IMPORT_DIR "/test.qml")));
        if (!component.isReady()) {
            qWarning().noquote() << component.errorString();
            return nullptr;
        }
        std::unique_ptr<QObject> object(
            component.createWithInitialProperties({{QStringLiteral("server"), server}}));
        if (!object)
            qWarning().noquote() << component.errorString();
        return object;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_engine = new QQmlEngine(this);
        m_engine->addImportPath(QStringLiteral(REQIVO_QML_IMPORT_DIR));
    }

    void init() { QTest::failOnWarning(QRegularExpression(QStringLiteral(".*"))); }

    // retry on the client: a 503 then a 200 takes two attempts.
    void clientRetryRetriesA503()
    {
        LoopbackServer server(flaky(1, "Retry-After: 0\r\n"));
        auto root = load("retry: ({ attempts: 3, baseDelay: 10 })", R"(
            property int status: 0
            property int attempts: 0
            property string text
            Component.onCompleted: client.get("/x").then(r => {
                status = r.status; attempts = r.attempts; text = r.text
            }, e => { status = -1 })
        )",
            server.url());
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(root->property("status").toInt() != 0, waitMs);
        QCOMPARE(root->property("status").toInt(), 200);
        QCOMPARE(root->property("attempts").toInt(), 2);
        QCOMPARE(root->property("text").toString(), QStringLiteral("done"));
        QCOMPARE(server.requests().size(), 2);
        QCOMPARE(root->property("client").value<QObject *>()->property("retry").toMap().value(
                     QStringLiteral("attempts")),
            QVariant(3));
    }

    // Without a retry setting nothing is retried; options.retry turns it on for one request.
    void perRequestRetry()
    {
        LoopbackServer server(flaky(2, "Retry-After: 0\r\n"));
        auto root = load({}, R"(
            property int first: 0
            property int firstAttempts: 0
            property int second: 0
            property int secondAttempts: 0
            Component.onCompleted: client.get("/a").then(r => {
                first = r.status; firstAttempts = r.attempts
                return client.get("/b", {retry: {attempts: 2, baseDelay: 10}})
            }).then(r => { second = r.status; secondAttempts = r.attempts },
                    e => { second = -1 })
        )",
            server.url());
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(root->property("second").toInt() != 0, waitMs);
        QCOMPARE(root->property("first").toInt(), 503);
        QCOMPARE(root->property("firstAttempts").toInt(), 1);
        QCOMPARE(root->property("second").toInt(), 200);
        QCOMPARE(root->property("secondAttempts").toInt(), 2);
        QCOMPARE(server.requests().size(), 3);
    }

    // A number is the number of attempts; null turns the client's retries off for a request.
    void perRequestRetryShorthandAndNull()
    {
        LoopbackServer server(flaky(2, "Retry-After: 0\r\n"));
        auto root = load("retry: ({ attempts: 5, baseDelay: 10 })", R"(
            property int first: 0
            property int second: 0
            property int secondAttempts: 0
            Component.onCompleted: client.get("/a", {retry: null}).then(r => {
                first = r.status
                return client.get("/b", {retry: 3})
            }).then(r => { second = r.status; secondAttempts = r.attempts },
                    e => { second = -1 })
        )",
            server.url());
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(root->property("second").toInt() != 0, waitMs);
        QCOMPARE(root->property("first").toInt(), 503);
        QCOMPARE(root->property("second").toInt(), 200);
        QCOMPARE(root->property("secondAttempts").toInt(), 2);
        QCOMPARE(server.requests().size(), 3);
    }

    // A rejection's error says how many attempts were made.
    void errorCarriesAttempts()
    {
        const quint16 port = closedPort();
        QVERIFY(port != 0);
        auto root = load("retry: ({ attempts: 3, baseDelay: 10 })", R"(
            property string type
            property int attempts: -1
            Component.onCompleted: client.get("/").then(r => { type = "response" },
                e => { type = e.type; attempts = e.attempts })
        )",
            QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port)));
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(!root->property("type").toString().isEmpty(), waitMs);
        QCOMPARE(root->property("type").toString(), QStringLiteral("NetworkError"));
        QCOMPARE(root->property("attempts").toInt(), 3);
    }

    // Cumulative milliseconds, ordered over the phases that happened; zero connection phases
    // on a reused connection.
    void timingsArePresentAndOrdered()
    {
        LoopbackServer server(
            [](QTcpSocket *s, const SeenRequest &) { s->write(httpResponse(200, "OK", {}, "t")); });
        auto root = load({}, R"(
            property var first
            property var second
            property bool same: false
            Component.onCompleted: client.get("/1").then(r => {
                first = r.timings; same = r.timings === r.timings
                return client.get("/2")
            }).then(r => { second = r.timings })
        )",
            server.url());
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(root->property("second").isValid(), waitMs);
        QVERIFY(root->property("same").toBool());
        const QVariantMap first = root->property("first").toMap();
        const QVariantMap second = root->property("second").toMap();
        for (const char *key : {"dnsMs", "connectMs", "tlsMs", "ttfbMs", "totalMs", "queueMs",
                 "proxyTunnelMs", "requestSentMs", "reused"})
            QVERIFY2(first.contains(QLatin1String(key)), key);
        double last = 0;
        for (const char *key : {"dnsMs", "connectMs", "tlsMs", "ttfbMs", "totalMs"}) {
            const double value = first.value(QLatin1String(key)).toDouble();
            QVERIFY2(value >= 0, key);
            if (value == 0)
                continue;
            QVERIFY2(value >= last, key);
            last = value;
        }
        QVERIFY(first.value(QStringLiteral("connectMs")).toDouble() > 0);
        QVERIFY(first.value(QStringLiteral("ttfbMs")).toDouble() > 0);
        QCOMPARE(first.value(QStringLiteral("tlsMs")).toDouble(), 0.0);
        QCOMPARE(first.value(QStringLiteral("reused")).toBool(), false);
        QCOMPARE(second.value(QStringLiteral("reused")).toBool(), true);
        QCOMPARE(second.value(QStringLiteral("connectMs")).toDouble(), 0.0);
        QVERIFY(second.value(QStringLiteral("totalMs")).toDouble()
            >= second.value(QStringLiteral("ttfbMs")).toDouble());
    }

    // authScheme "digest" answers httpbin's Digest challenge; Basic does not.
    void digestAgainstHttpbin_data()
    {
        QTest::addColumn<QByteArray>("scheme");
        QTest::addColumn<int>("status");
        QTest::newRow("digest") << QByteArray("digest") << 200;
        QTest::newRow("basic") << QByteArray("basic") << 401;
    }

    void digestAgainstHttpbin()
    {
        QFETCH(QByteArray, scheme);
        QFETCH(int, status);
        const QHash<QString, QString> httpbin = ReqivoTest::loadPeerEnv(QStringLiteral("httpbin"));
        const QUrl base(ReqivoTest::peerValue(httpbin, QStringLiteral("HTTPBIN_URL")));
        auto root = load("user: \"alice\"; password: \"s3cret\"; authScheme: \"" + scheme + '"', R"(
            property int status: 0
            Component.onCompleted: client.get("/digest-auth/auth/alice/s3cret/SHA-256")
                .then(r => { status = r.status }, e => { status = -1 })
        )",
            base);
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(root->property("status").toInt() != 0, waitMs);
        QCOMPARE(root->property("status").toInt(), status);
        QCOMPARE(root->property("client").value<QObject *>()->property("authScheme").toString(),
            QString::fromLatin1(scheme));
    }

    // pinnedPublicKeys end to end against nginx: the right pin (beside a backup) lets the
    // request through, a wrong one rejects it with a TlsError naming the chain's pin. The CA is
    // set from C++ (QML has no TLS trust property); the pins property keeps it.
    void pinnedPublicKeys_data()
    {
        QTest::addColumn<bool>("right");
        QTest::newRow("right") << true;
        QTest::newRow("wrong") << false;
    }

    void pinnedPublicKeys()
    {
        QFETCH(bool, right);
        const QHash<QString, QString> nginx = ReqivoTest::loadPeerEnv(QStringLiteral("nginx"));
        QFile pem(ReqivoTest::peerValue(nginx, QStringLiteral("NGINX_SERVER_CERT")));
        QVERIFY(pem.open(QIODevice::ReadOnly));
        const QList<QSslCertificate> chain = QSslCertificate::fromData(pem.readAll());
        QVERIFY(!chain.isEmpty());
        const QString leafPin = QStringLiteral("sha256//")
            + QString::fromLatin1(QCryptographicHash::hash(
                chain.first().publicKey().toDer(), QCryptographicHash::Sha256)
                                      .toBase64());
        const QString backup
            = QStringLiteral("sha256//") + QString::fromLatin1(QByteArray(32, 'b').toBase64());

        auto root = load({}, R"(
            property int status: 0
            property string type
            property string message
            function run() {
                client.get("/small.txt").then(r => { status = r.status },
                    e => { status = -1; type = e.type; message = e.message + " " + e.detail })
            }
        )",
            QUrl(ReqivoTest::peerValue(nginx, QStringLiteral("NGINX_HTTPS_URL"))));
        QVERIFY(root);
        QObject *client = root->property("client").value<QObject *>();
        auto *session
            = client->findChild<Reqivo::AsyncSession *>(QString(), Qt::FindDirectChildrenOnly);
        QVERIFY(session);
        Reqivo::TlsOptions tls;
        QVERIFY(tls.addCaCertificatesFromFile(
            ReqivoTest::peerValue(nginx, QStringLiteral("NGINX_CA_FILE"))));
        session->setTlsOptions(tls);
        QVariantMap pins;
        pins.insert(QStringLiteral("127.0.0.1"),
            right ? QVariant(QStringList {backup, leafPin}) : QVariant(backup));
        QVERIFY(client->setProperty("pinnedPublicKeys", pins));
        QCOMPARE(client->property("pinnedPublicKeys").toMap(), pins);
        QCOMPARE(session->tlsOptions().caCertificates, tls.caCertificates);
        QVERIFY(QMetaObject::invokeMethod(root.get(), "run"));
        QTRY_VERIFY_WITH_TIMEOUT(root->property("status").toInt() != 0, waitMs);
        if (right) {
            QCOMPARE(root->property("status").toInt(), 200);
        } else {
            QCOMPARE(root->property("status").toInt(), -1);
            QCOMPARE(root->property("type").toString(), QStringLiteral("TlsError"));
            QVERIFY2(root->property("message").toString().contains(leafPin),
                qPrintable(root->property("message").toString()));
        }
    }

    // Proxies from the environment (read when the client is made), noProxy and
    // proxyFromEnvironment. The "proxy" is a loopback server answering the absolute-form request.
    void proxyFromTheEnvironment_data()
    {
        QTest::addColumn<QByteArray>("settings");
        QTest::addColumn<bool>("proxied");
        QTest::newRow("environment") << QByteArray() << true;
        QTest::newRow("noProxy") << QByteArray("noProxy: [\"127.0.0.0/8\"]") << false;
        QTest::newRow("proxyFromEnvironment false")
            << QByteArray("proxyFromEnvironment: false") << false;
    }

    void proxyFromTheEnvironment()
    {
        QFETCH(QByteArray, settings);
        QFETCH(bool, proxied);
        LoopbackServer origin([](QTcpSocket *s, const SeenRequest &) {
            s->write(httpResponse(200, "OK", {}, "origin"));
        });
        LoopbackServer proxy([](QTcpSocket *s, const SeenRequest &) {
            s->write(httpResponse(200, "OK", {}, "proxy"));
        });
        // Only this test's http_proxy: the caller's proxy variables are put back afterwards.
        const char *const names[] = {"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy",
            "ALL_PROXY", "no_proxy", "NO_PROXY"};
        QList<std::optional<QByteArray>> saved;
        for (const char *name : names) {
            saved.append(
                qEnvironmentVariableIsSet(name) ? std::optional(qgetenv(name)) : std::nullopt);
            qunsetenv(name);
        }
        qputenv("http_proxy", proxy.url().toString(QUrl::RemovePath).toUtf8());
        auto root = load(settings, R"(
            property string text
            Component.onCompleted: client.get("/x").then(r => { text = r.text },
                e => { text = "error " + e.message })
        )",
            origin.url());
        for (qsizetype i = 0; i < saved.size(); ++i) {
            if (saved.at(i))
                qputenv(names[i], *saved.at(i));
            else
                qunsetenv(names[i]);
        }
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(!root->property("text").toString().isEmpty(), waitMs);
        QCOMPARE(root->property("text").toString(),
            proxied ? QStringLiteral("proxy") : QStringLiteral("origin"));
        if (proxied) {
            QCOMPARE(proxy.requests().size(), 1);
            QCOMPARE(proxy.requests().at(0).target, origin.url(QStringLiteral("/x")).toEncoded());
        } else {
            QCOMPARE(proxy.requests().size(), 0);
        }
    }

    // Bad settings: a warning and no change; bad request options: a TypeError at once.
    void badSettingsAreRefused()
    {
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("retry.attempts")));
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("authScheme")));
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("pinnedPublicKeys")));
        auto root = load(R"(retry: ({ attempts: 0 }); authScheme: "ntlm"
                            pinnedPublicKeys: ({ "example.com": "md5//AAAA" }))",
            R"(
            property string problem
            Component.onCompleted: {
                try { client.get("/", {retry: {atempts: 2}}) } catch (e) { problem = e.message }
            }
        )",
            QUrl(QStringLiteral("http://127.0.0.1:1")));
        QVERIFY(root);
        QObject *client = root->property("client").value<QObject *>();
        QVERIFY(client->property("retry").toMap().isEmpty());
        QCOMPARE(client->property("authScheme").toString(), QStringLiteral("basic"));
        QVERIFY(client->property("pinnedPublicKeys").toMap().isEmpty());
        QVERIFY2(root->property("problem").toString().contains(QStringLiteral("atempts")),
            qPrintable(root->property("problem").toString()));
    }
};

QTEST_GUILESS_MAIN(tst_QmlResilience)
#include "tst_qml_resilience.moc"
