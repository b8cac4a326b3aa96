// bench_qtcpsocket: the floor. A raw QTcpSocket keep-alive loop with next to no HTTP in it.
//
//   bench_qtcpsocket --url URL --requests N --concurrency C
//
// Each of C sockets writes one small GET, reads until it holds the head ("\r\n\r\n") and
// Content-Length bytes of body, and writes the next: one write and one read per request, driven
// by readyRead like any Qt client. No parser, no headers object, no allocation worth the name:
// whatever a real client does on top of this costs time, and the ratio to this loop shows how
// much.
#include "benchcommon.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QTcpSocket>
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
    Loop(const QUrl &url, Shared &shared)
        : m_shared(shared)
    {
        const QByteArray target = url.path(QUrl::FullyEncoded).isEmpty()
            ? QByteArray("/")
            : url.path(QUrl::FullyEncoded).toLatin1();
        m_request = "GET " + target
            + (url.hasQuery() ? "?" + url.query(QUrl::FullyEncoded).toLatin1() : QByteArray())
            + " HTTP/1.1\r\nHost: " + url.host().toLatin1() + ':' + QByteArray::number(url.port(80))
            + "\r\n\r\n";
        m_socket.setSocketOption(QAbstractSocket::LowDelayOption, 1);
        QObject::connect(&m_socket, &QTcpSocket::connected, &m_socket, [this] { sendNext(); });
        QObject::connect(&m_socket, &QTcpSocket::readyRead, &m_socket, [this] { onReadyRead(); });
        QObject::connect(
            &m_socket, &QTcpSocket::errorOccurred, &m_socket, [this](QAbstractSocket::SocketError) {
                if (m_shared.errors++ == 0)
                    std::fprintf(
                        stderr, "bench_qtcpsocket: %s\n", qPrintable(m_socket.errorString()));
                stop();
            });
        ++m_shared.running;
        m_socket.connectToHost(url.host(), quint16(url.port(80)));
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
    QTcpSocket m_socket;
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
    if (args.url.empty() || url.scheme() != QLatin1String("http") || url.host().isEmpty()) {
        std::fputs("bench_qtcpsocket: needs --url http://host[:port]/path\n", stderr);
        return Bench::ExitUsage;
    }
    if (!args.ca.empty()
        || (args.http != Bench::HttpVersion::Default && args.http != Bench::HttpVersion::Http1_1)) {
        std::fputs(
            "bench_qtcpsocket: speaks only cleartext HTTP/1.1 (see bench_qsslsocket)\n", stderr);
        return Bench::ExitUsage;
    }

    Shared shared;
    shared.total = args.requests;
    QElapsedTimer clock;
    clock.start();
    std::vector<std::unique_ptr<Loop>> loops;
    for (int i = 0; i < args.concurrency; ++i)
        loops.push_back(std::make_unique<Loop>(url, shared));
    const int status = QCoreApplication::exec();
    const double seconds = double(clock.nsecsElapsed()) / 1e9;
    Bench::printGet(
        "qtcpsocket", args.requests, args.concurrency, seconds, shared.errors, "http/1.1");
    return status;
}
