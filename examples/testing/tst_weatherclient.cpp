// WeatherClient's tests: a MockServer plays the weather service, on loopback, so the tests run
// without the internet and can make the service misbehave on purpose.
#include "weatherclient.h"

#include <Reqivo/Testing/MockServer>

#include <QSignalSpy>
#include <QTest>
#include <QUrlQuery>

using namespace std::chrono_literals;
using Reqivo::Testing::MockResponse;
using Reqivo::Testing::MockServer;
using Reqivo::Testing::RecordedRequest;

class tst_WeatherClient : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void readsTheTemperature();
    void sendsTheCityAndTheKey();
    void unknownCity();
    void answersByDispatcher();
    void serverDropsTheConnection();
    void slowServerTimesOut();
    void overTls();
    void withSignalsAndNoCoroutine();
};

void tst_WeatherClient::readsTheTemperature()
{
    MockServer server;
    server.enqueue(MockResponse::json(R"({"celsius": 21.5})"));
    QVERIFY(server.start());
    WeatherClient client(server.url(QStringLiteral("/v1/")));
    // QCoro::waitFor() runs the event loop until the coroutine is done: the server answers
    // meanwhile, on this thread.
    const std::optional<double> celsius
        = QCoro::waitFor(client.temperature(QStringLiteral("Oslo")));
    QVERIFY(celsius.has_value());
    QCOMPARE(*celsius, 21.5);
}

void tst_WeatherClient::sendsTheCityAndTheKey()
{
    MockServer server;
    server.enqueue(MockResponse::json(R"({"celsius": 3})"));
    QVERIFY(server.start());
    WeatherClient client(server.url(QStringLiteral("/v1/")));
    client.setApiKey(QStringLiteral("secret-key"));
    QCoro::waitFor(client.temperature(QStringLiteral("São Paulo")));
    // What the client sent, as the server received it.
    const std::optional<RecordedRequest> request = server.takeRequest();
    QVERIFY(request);
    QCOMPARE(request->method, QByteArray("GET"));
    QCOMPARE(request->path(), QStringLiteral("/v1/current"));
    const QUrlQuery query(QUrl::fromEncoded(request->target).query());
    QCOMPARE(query.queryItemValue(QStringLiteral("city"), QUrl::FullyDecoded),
        QStringLiteral("São Paulo"));
    QCOMPARE(request->header("Authorization"), QByteArray("Bearer secret-key"));
    QCOMPARE(request->header("Accept"), QByteArray("application/json"));
}

void tst_WeatherClient::unknownCity()
{
    MockServer server; // nothing queued: every request gets the default answer, 404
    QVERIFY(server.start());
    WeatherClient client(server.url(QStringLiteral("/v1/")));
    QCOMPARE(
        QCoro::waitFor(client.temperature(QStringLiteral("Atlantis"))), std::optional<double>());
    QCOMPARE(client.lastError(), QStringLiteral("unknown city: Atlantis"));
}

void tst_WeatherClient::answersByDispatcher()
{
    MockServer server;
    server.setDispatcher([](const RecordedRequest &request) {
        if (request.target.contains("city=Oslo"))
            return MockResponse::json(R"({"celsius": -4})");
        if (request.target.contains("city=Cairo"))
            return MockResponse::json(R"({"celsius": 35})");
        return MockResponse(404);
    });
    QVERIFY(server.start());
    WeatherClient client(server.url(QStringLiteral("/v1/")));
    QCOMPARE(QCoro::waitFor(client.temperature(QStringLiteral("Cairo"))), std::optional(35.0));
    QCOMPARE(QCoro::waitFor(client.temperature(QStringLiteral("Oslo"))), std::optional(-4.0));
    QCOMPARE(QCoro::waitFor(client.temperature(QStringLiteral("Lima"))), std::optional<double>());
    QCOMPARE(server.requestCount(), 3);
}

void tst_WeatherClient::serverDropsTheConnection()
{
    MockServer server;
    // The connection closes in the middle of the body.
    server.enqueue(MockResponse::json(R"({"celsius": 12.25})").disconnectAfter(60));
    QVERIFY(server.start());
    WeatherClient client(server.url(QStringLiteral("/v1/")));
    QCOMPARE(QCoro::waitFor(client.temperature(QStringLiteral("Oslo"))), std::optional<double>());
    QVERIFY(!client.lastError().isEmpty());
}

void tst_WeatherClient::slowServerTimesOut()
{
    MockServer server;
    server.enqueue(MockResponse().setFault(MockResponse::Fault::Stall));
    QVERIFY(server.start());
    WeatherClient client(server.url(QStringLiteral("/v1/")));
    client.setTimeout(200ms);
    QCOMPARE(QCoro::waitFor(client.temperature(QStringLiteral("Oslo"))), std::optional<double>());
    QVERIFY(!client.lastError().isEmpty());
}

void tst_WeatherClient::overTls()
{
    MockServer server;
    server.useTls(); // a certificate for localhost and 127.0.0.1, from a CA made for this test
    server.enqueue(MockResponse::json(R"({"celsius": 8})"));
    QVERIFY(server.start());
    WeatherClient client(server.url(QStringLiteral("/v1/")));
    Reqivo::TlsOptions tls;
    tls.caCertificates = {server.caCertificate()};
    client.setTlsOptions(tls);
    QCOMPARE(QCoro::waitFor(client.temperature(QStringLiteral("Bergen"))), std::optional(8.0));
    QVERIFY(server.requests().value(0).tls);
}

void tst_WeatherClient::withSignalsAndNoCoroutine()
{
    MockServer server;
    server.enqueue(MockResponse::json(R"({"celsius": 17})").setHeadDelay(20ms));
    server.enqueue(MockResponse(500));
    QVERIFY(server.start());
    WeatherClient client(server.url(QStringLiteral("/v1/")));
    QSignalSpy ready(&client, &WeatherClient::temperatureReady);
    QSignalSpy failed(&client, &WeatherClient::failed);

    client.requestTemperature(QStringLiteral("Rome"));
    QVERIFY(server.waitForRequest()); // the request is out; the answer comes after 20 ms
    QCOMPARE(server.takeRequest()->path(), QStringLiteral("/v1/current"));
    QTRY_COMPARE(ready.size(), 1);
    QCOMPARE(ready.at(0).at(1).toDouble(), 17.0);

    client.requestTemperature(QStringLiteral("Rome"));
    QTRY_COMPARE(failed.size(), 1);
    QCOMPARE(failed.at(0).at(0).toString(), QStringLiteral("Rome"));
}

QTEST_GUILESS_MAIN(tst_WeatherClient)
#include "tst_weatherclient.moc"
