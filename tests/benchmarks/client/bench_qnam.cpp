// bench_qnam: the same GET loop with QNetworkAccessManager, the client Qt ships.
//
//   bench_qnam --url URL --requests N --concurrency C [--ca FILE]
//              [--http1.1 | --http2 | --http2-prior-knowledge]
//
// C coroutines keep C requests in flight on one manager (keep-alive on, Qt's defaults
// otherwise). HTTP/2 is off unless --http2 (Http2AllowedAttribute: h2 by ALPN over TLS, which
// multiplexes every request on one connection) or --http2-prior-knowledge (Http2DirectAttribute,
// cleartext) asks for it; for HTTP/1.1, Qt opens at most six connections per host, so requests
// beyond six queue inside the manager. --ca adds a CA to the ones trusted. The line's "proto"
// says what Qt used (Http2WasUsedAttribute of every reply).
#include "benchcommon.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QTimer>
#include <QUrl>

#include <QCoro/QCoroNetworkReply>
#include <QCoro/QCoroTask>

#include <vector>

namespace {

struct Counters
{
    long long next = 0;
    long long errors = 0;
    Bench::ProtoTally proto;
};

QCoro::Task<void> getLoop(QNetworkAccessManager &manager, const QNetworkRequest &request,
    long long total, Counters &counters)
{
    while (counters.next < total) {
        ++counters.next;
        QNetworkReply *reply = manager.get(request);
        co_await qCoro(reply).waitForFinished();
        reply->readAll();
        counters.proto.add(reply->attribute(QNetworkRequest::Http2WasUsedAttribute).toBool());
        if (reply->error() != QNetworkReply::NoError
            || reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() != 200) {
            if (counters.errors++ == 0)
                std::fprintf(stderr, "bench_qnam: %s\n", qPrintable(reply->errorString()));
        }
        reply->deleteLater();
    }
}

QCoro::Task<int> runGet(const Bench::Args &args)
{
    QNetworkAccessManager manager;
    QNetworkRequest request(QUrl(QString::fromStdString(args.url)));
    request.setAttribute(
        QNetworkRequest::Http2AllowedAttribute, args.http == Bench::HttpVersion::Http2);
    request.setAttribute(QNetworkRequest::Http2DirectAttribute,
        args.http == Bench::HttpVersion::Http2PriorKnowledge);
    request.setAttribute(
        QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    if (!args.ca.empty()) {
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        const auto ca = QSslCertificate::fromPath(QString::fromStdString(args.ca));
        if (ca.isEmpty()) {
            std::fprintf(stderr, "bench_qnam: no certificate in %s\n", args.ca.c_str());
            co_return Bench::ExitUsage;
        }
        tls.addCaCertificates(ca);
        request.setSslConfiguration(tls);
    }

    Counters counters;
    QElapsedTimer clock;
    clock.start();
    std::vector<QCoro::Task<void>> loops;
    loops.reserve(size_t(args.concurrency));
    for (int i = 0; i < args.concurrency; ++i)
        loops.push_back(getLoop(manager, request, args.requests, counters));
    for (auto &loop : loops)
        co_await loop;
    const double seconds = double(clock.nsecsElapsed()) / 1e9;

    Bench::printGet(
        "qnam", args.requests, args.concurrency, seconds, counters.errors, counters.proto.name());
    co_return counters.errors == 0 ? Bench::ExitOk : Bench::ExitFailed;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    Bench::Args args;
    if (!Bench::parseArgs(argc, argv, args))
        return Bench::ExitUsage;
    if (args.url.empty()) {
        std::fputs("bench_qnam: only the GET loop (--url) is measured\n", stderr);
        return Bench::ExitUsage;
    }
    QTimer::singleShot(0, &app, [&args, &app] {
        QCoro::connect(runGet(args), &app, [](int status) { QCoreApplication::exit(status); });
    });
    return QCoreApplication::exec();
}
