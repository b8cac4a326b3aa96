// A user's test program built against the installed Reqivo::Testing: a MockServer answers a
// request made with Reqivo, over HTTP and over HTTPS trusting the server's CA.
#include <Reqivo/AsyncSession>
#include <Reqivo/Testing/MockServer>

#include <QCoreApplication>
#include <QTimer>

#include <cstdio>

namespace {
int failures = 0;

void check(bool ok, const char *what)
{
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok)
        ++failures;
}

QCoro::Task<> run(Reqivo::Testing::MockServer &plain, Reqivo::Testing::MockServer &secure)
{
    Reqivo::AsyncSession session;
    const Reqivo::Response r = co_await session.get(plain.url(QStringLiteral("/hello")));
    check(r.status() == 200 && r.body() == "hi", "MockServer answers from its queue");
    const auto request = co_await plain.nextRequest();
    check(request && request->target == "/hello", "MockServer records the request");

    Reqivo::TlsOptions tls;
    tls.useSystemCaCertificates = false;
    tls.caCertificates = {secure.caCertificate()};
    session.setTlsOptions(tls);
    const Reqivo::Response s = co_await session.get(secure.url());
    check(s.status() == 201, "MockServer speaks TLS with a certificate its CA issued");
    QCoreApplication::exit(failures ? 1 : 0);
}
} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    Reqivo::Testing::MockServer plain;
    plain.enqueue(Reqivo::Testing::MockResponse::text(QStringLiteral("hi")));
    Reqivo::Testing::MockServer secure;
    secure.useTls();
    secure.enqueue(Reqivo::Testing::MockResponse(201));
    if (!plain.start() || !secure.start()) {
        std::printf("FAIL cannot listen\n");
        return 1;
    }
    QTimer watchdog;
    QObject::connect(&watchdog, &QTimer::timeout, &app, [] {
        std::printf("FAIL timed out\n");
        QCoreApplication::exit(1);
    });
    watchdog.start(30000);
    auto task = run(plain, secure);
    const int rc = app.exec();
    std::printf(
        "Reqivo::Testing from the installed package: %s\n", rc ? "FAILED" : "all checks passed");
    return rc;
}
