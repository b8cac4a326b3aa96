// bench_qsslsocket: the floor over TLS. A raw QSslSocket keep-alive loop with next to no HTTP in
// it, beside bench_qtcpsocket.
//
//   bench_qsslsocket --url https://HOST[:PORT]/PATH --requests N --concurrency C [--ca FILE]
//                    [--http1.1]
//
// Each of C sockets completes its TLS handshake (ALPN "http/1.1", so that a server offering h2
// still speaks HTTP/1.1 here), then writes one small GET, reads until it holds the head
// ("\r\n\r\n") and Content-Length bytes of body, and writes the next: one write and one read per
// request, driven by readyRead like any Qt client. The handshake counts in the time, as it does
// for every client. --ca trusts that CA besides the system's. Whatever a real HTTP/1.1-over-TLS
// client does on top of this costs time, and the ratio to this loop shows how much.
#include "benchcommon.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QUrl>

#include <memory>
#include <vector>

namespace {

struct Shared
{
    long long total = 0;
    long long next = 0;
    long long errors = 0;
    int running = 0;
};

class Loop
{
public:
    Loop(const QUrl &url, const QSslConfiguration &tls, Shared &shared)
        : m_shared(shared)
    {
        const QByteArray target = url.path(QUrl::FullyEncoded).isEmpty()
            ? QByteArray("/")
            : url.path(QUrl::FullyEncoded).toLatin1();
        m_request = "GET " + target
            + (url.hasQuery() ? "?" + url.query(QUrl::FullyEncoded).toLatin1() : QByteArray())
            + " HTTP/1.1\r\nHost: " + url.host().toLatin1() + ':'
            + QByteArray::number(url.port(443)) + "\r\n\r\n";
        m_socket.setSslConfiguration(tls);
        m_socket.setSocketOption(QAbstractSocket::LowDelayOption, 1);
        QObject::connect(&m_socket, &QSslSocket::encrypted, &m_socket, [this] {
            const QByteArray alpn = m_socket.sslConfiguration().nextNegotiatedProtocol();
            if (!alpn.isEmpty() && alpn != QSslConfiguration::NextProtocolHttp1_1) {
                fail(QStringLiteral("the server chose %1 by ALPN").arg(QString::fromLatin1(alpn)));
                return;
            }
            sendNext();
        });
        QObject::connect(&m_socket, &QSslSocket::readyRead, &m_socket, [this] { onReadyRead(); });
        QObject::connect(&m_socket, &QSslSocket::errorOccurred, &m_socket,
            [this](QAbstractSocket::SocketError) { fail(m_socket.errorString()); });
        QObject::connect(
            &m_socket, &QSslSocket::sslErrors, &m_socket, [this](const QList<QSslError> &errors) {
                fail(errors.isEmpty() ? QStringLiteral("TLS error") : errors.first().errorString());
            });
        ++m_shared.running;
        m_socket.connectToHostEncrypted(url.host(), quint16(url.port(443)));
    }

private:
    void sendNext()
    {
        if (m_shared.next >= m_shared.total) {
            stop();
            return;
        }
        ++m_shared.next;
        m_socket.write(m_request);
    }

    void onReadyRead()
    {
        m_buffer += m_socket.readAll();
        const qsizetype headEnd = m_buffer.indexOf("\r\n\r\n");
        if (headEnd < 0)
            return;
        const QByteArrayView head(m_buffer.constData(), headEnd);
        qsizetype at = head.indexOf("Content-Length:");
        if (at < 0)
            at = QByteArray(head.data(), head.size()).toLower().indexOf("content-length:");
        long long length = 0;
        if (at >= 0) {
            for (qsizetype i = at + 15; i < head.size() && head[i] != '\r'; ++i) {
                if (head[i] >= '0' && head[i] <= '9')
                    length = length * 10 + (head[i] - '0');
            }
        }
        if (m_buffer.size() < headEnd + 4 + length)
            return;
        if (!head.startsWith("HTTP/1.1 200"))
            ++m_shared.errors;
        m_buffer.remove(0, qsizetype(headEnd + 4 + length));
        sendNext();
    }

    void fail(const QString &why)
    {
        if (m_stopped)
            return;
        if (m_shared.errors++ == 0)
            std::fprintf(stderr, "bench_qsslsocket: %s\n", qPrintable(why));
        stop();
    }

    void stop()
    {
        if (m_stopped)
            return;
        m_stopped = true;
        m_socket.abort();
        if (--m_shared.running == 0)
            QCoreApplication::exit(m_shared.errors == 0 ? Bench::ExitOk : Bench::ExitFailed);
    }

    Shared &m_shared;
    QSslSocket m_socket;
    QByteArray m_request;
    QByteArray m_buffer;
    bool m_stopped = false;
};

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    Bench::Args args;
    if (!Bench::parseArgs(argc, argv, args))
        return Bench::ExitUsage;
    const QUrl url(QString::fromStdString(args.url));
    if (args.url.empty() || url.scheme() != QLatin1String("https") || url.host().isEmpty()) {
        std::fputs("bench_qsslsocket: needs --url https://host[:port]/path\n", stderr);
        return Bench::ExitUsage;
    }
    if (args.http != Bench::HttpVersion::Default && args.http != Bench::HttpVersion::Http1_1) {
        std::fputs("bench_qsslsocket: speaks only HTTP/1.1\n", stderr);
        return Bench::ExitUsage;
    }
    if (!QSslSocket::supportsSsl()) {
        std::fputs("bench_qsslsocket: Qt has no TLS backend\n", stderr);
        return Bench::ExitFailed;
    }
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    if (!args.ca.empty()) {
        const auto ca = QSslCertificate::fromPath(QString::fromStdString(args.ca));
        if (ca.isEmpty()) {
            std::fprintf(stderr, "bench_qsslsocket: no certificate in %s\n", args.ca.c_str());
            return Bench::ExitUsage;
        }
        tls.addCaCertificates(ca);
    }
    tls.setAllowedNextProtocols({QSslConfiguration::NextProtocolHttp1_1});

    Shared shared;
    shared.total = args.requests;
    QElapsedTimer clock;
    clock.start();
    std::vector<std::unique_ptr<Loop>> loops;
    for (int i = 0; i < args.concurrency; ++i)
        loops.push_back(std::make_unique<Loop>(url, tls, shared));
    const int status = QCoreApplication::exec();
    const double seconds = double(clock.nsecsElapsed()) / 1e9;
    Bench::printGet(
        "qsslsocket", args.requests, args.concurrency, seconds, shared.errors, "http/1.1");
    return status;
}
