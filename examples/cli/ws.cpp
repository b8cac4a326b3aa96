// reqivo ws: the WebSocket-only options are taken out first, the rest goes through the plain
// command's parser (so -H, -u, --bearer, TLS, proxy and -v mean the same, and the environment's
// proxies apply), and one AsyncWebSocket opened from a session runs in the application's event
// loop.
//
// Input: stdin is read only through a QSocketNotifier on descriptor 0, one read(2) per
// notification (so the event loop never blocks on it), and only while the connection is open
// and the socket has less than a window of unsent bytes: lines wait in the pipe, in order, while
// the socket connects or reconnects, and a fast producer is slowed down by the pipe rather than
// by memory. Lines are sent with sendTextMessage() in the order read.
#include "ws.h"

#include "cliopts.h"
#include "output.h"
#include "report.h"

#include <Reqivo/asyncsession.h>
#include <Reqivo/asyncwebsocket.h>

#include <QCoreApplication>
#include <QSocketNotifier>
#include <QTimer>

#include <QCoro/QCoroTask>

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>

#include <fcntl.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace ReqivoCli {

namespace {

using ms = std::chrono::milliseconds;

//! Unsent bytes on the connection (and lines read ahead) beyond which stdin is not read.
constexpr qint64 sendWindow = 1024 * 1024;
//! The longest stdin line: one message of the library's default maximum size.
constexpr qsizetype maxLineBytes = Reqivo::WebSocketOptions::defaultMaxMessageSize;
//! --wait's default, in milliseconds.
constexpr qint64 defaultWaitMs = 1000;

struct WsOptions
{
    QStringList sends; //!< --send TEXT, in order
    bool sendGiven = false;
    ms wait {defaultWaitMs};
    bool reconnect = false;
    std::optional<int> maxReconnects;
    std::optional<ms> heartbeat;
    std::optional<qint64> maxMessageBytes;
    QStringList subprotocols;
    std::optional<ms> connectTimeout;
};

const QString helpText = uR"(Usage: reqivo ws [options] URL
A WebSocket client: sends each line of stdin as a text message (or each --send TEXT), prints
every message received, and closes the connection with 1000 once the input is done and --wait
has passed. URL is ws:// or wss:// (http:// and https:// mean the same; no scheme: ws://).

Options:
  --send TEXT              Send TEXT as a text message; repeatable, in order. stdin is then
                           not read.
  --wait S                 After the last message was sent, wait S seconds for more messages
                           before closing (default 1; 0: close at once).
  --subprotocol NAME       Offer a subprotocol (Sec-WebSocket-Protocol); repeatable, in order
                           of preference.
  --reconnect              Reopen a lost connection (1006, 1001, 1012, 1013, missed heartbeat)
                           and retry a first connect that failed for a reason a retry can fix,
                           with backoff from 1 s doubling up to 30 s (jitter 20 %). Lines wait
                           in order meanwhile.
  --max-reconnects N       Give up after N attempts per outage (default 3; implies
                           --reconnect).
  --heartbeat S            Ping every S seconds; no pong within S seconds means the connection
                           is dead (default: no heartbeat).
  --max-message-bytes N    The largest message (and frame) accepted; a larger one closes the
                           connection with 1009 (default 64 MiB).
  --connect-timeout S      Limit for TCP connect, TLS and the upgrade together (default 5;
                           0: none).
  --report jsonl           Print one JSON object per event on stdout and nothing else: open,
                           message, reconnecting, close, error.
  -H 'Name: Value'         Add a handshake header; repeatable.
  -u USER:PASS             Basic authentication.
  --bearer TOKEN           Bearer authentication.
  --cacert FILE, --insecure, --cert FILE --key FILE, --pinnedpubkey PINS
                           TLS, as for the plain command.
  --proxy URL, --noproxy LIST
                           Proxies, as for the plain command (the environment's http_proxy,
                           https_proxy, all_proxy and no_proxy are read too; ws:// is an
                           http:// URL and wss:// an https:// one, always through a tunnel).
  -v, --verbose            Print the handshake request's head on stderr, secrets redacted.
  -h, --help               Print this help and exit.

Output: each text message as it is, followed by a newline; each binary message as one line of
base64 (RFC 4648, with padding). Errors and reconnects are told on stderr.
Exit status: 0 when the connection ended cleanly (a close with 1000, 1001, 1005 or 3000-4999,
from either side), 1 when it failed (refused, lost, an error close, reconnects exhausted),
2 for bad usage.
)"_s;

int usage(const QString &message)
{
    printErr(u"reqivo ws: %1\nTry 'reqivo ws --help' for more information.\n"_s.arg(message));
    return ExitUsage;
}

// Seconds as typed ("2", "0.5"), at least \a minimum.
std::optional<ms> takeSeconds(const QString &text, double minimum)
{
    bool ok = false;
    const double seconds = text.toDouble(&ok);
    if (!ok || !std::isfinite(seconds) || seconds < minimum || seconds > 1e6)
        return std::nullopt;
    return ms(std::llround(seconds * 1000.0));
}

bool isReservedField(QByteArrayView name)
{
    // The fields the handshake writes itself (see docs/websocket.md): the library refuses them
    // at open(); the command refuses them before connecting.
    static const char *const reserved[] = {"upgrade", "connection", "sec-websocket-key",
        "sec-websocket-version", "sec-websocket-accept", "sec-websocket-extensions",
        "sec-websocket-protocol", "content-length", "transfer-encoding"};
    for (const char *field : reserved) {
        if (Reqivo::Headers::nameEquals(name, field))
            return true;
    }
    return false;
}

bool isToken(const QString &text)
{
    if (text.isEmpty())
        return false;
    for (const QChar c : text) {
        const char16_t u = c.unicode();
        if (u <= 0x20 || u >= 0x7f || QStringView(u"\"(),/:;<=>?@[\\]{}").contains(c))
            return false;
    }
    return true;
}

// open() and close() report their failures through errorOccurred(); these only keep the
// exceptions from escaping a detached coroutine. The socket outlives both (it lives until
// QCoreApplication::exec() returns, after which no coroutine resumes).
QCoro::Task<void> openSocket(Reqivo::AsyncWebSocket *socket)
{
    try {
        co_await socket->open();
    } catch (...) {
    }
}

QCoro::Task<void> closeSocket(Reqivo::AsyncWebSocket *socket)
{
    try {
        co_await socket->close();
    } catch (...) {
    }
}

//! One WebSocket from open to close: reads the input, prints what happens, and ends the
//! application with the exit status.
class WsRun : public QObject
{
public:
    WsRun(Reqivo::AsyncSession &session, const CliOptions &options, const WsOptions &ws)
        : m_report(options.report)
        , m_readStdin(!ws.sendGiven)
        , m_wait(ws.wait)
    {
        Reqivo::WebSocketOptions wo;
        wo.headers = options.headers;
        wo.subprotocols = ws.subprotocols;
        if (ws.connectTimeout)
            wo.openTimeout = *ws.connectTimeout;
        if (ws.reconnect) {
            wo.reconnect.enabled = true;
            wo.reconnect.retryInitialConnect = true;
            if (ws.maxReconnects)
                wo.reconnect.maxAttempts = *ws.maxReconnects;
        }
        if (ws.heartbeat)
            wo.heartbeatInterval = *ws.heartbeat;
        // One limit for messages and frames: a peer that sends a message as one frame (Python
        // websockets does) is held to the same size as one that fragments it.
        wo.maxMessageSize = ws.maxMessageBytes.value_or(wo.maxMessageSize);
        wo.maxFrameSize = wo.maxMessageSize;
        wo.receiveQueueSize = 0; // the signals only
        m_socket.reset(
            Reqivo::AsyncWebSocket::fromSession(session, options.targets.first().url, wo));

        for (const QString &text : ws.sends)
            enqueue(text);
        if (!m_readStdin || ::fcntl(STDIN_FILENO, F_GETFD) == -1) {
            m_inputDone = true; // --send, or no stdin at all (see reserveStdin())
        } else {
            m_stdin = std::make_unique<QSocketNotifier>(STDIN_FILENO, QSocketNotifier::Read);
            m_stdin->setEnabled(false);
            connect(m_stdin.get(), &QSocketNotifier::activated, this, &WsRun::readInput);
        }
        m_waitTimer.setSingleShot(true);
        connect(&m_waitTimer, &QTimer::timeout, this, [this] {
            m_closeWanted = true;
            closeIfWanted();
        });

        using S = Reqivo::AsyncWebSocket;
        S *socket = m_socket.get();
        connect(socket, &S::connected, this, [this, socket] {
            if (m_report)
                line(object({{"event"_L1, encode(u"open"_s)},
                    {"subprotocol"_L1, encode(socket->subprotocol())}}));
            pump();
            closeIfWanted();
        });
        connect(socket, &S::textMessageReceived, this, [this](const QString &text) {
            const QByteArray bytes = text.toUtf8();
            if (m_report)
                line(object({{"event"_L1, encode(u"message"_s)}, {"type"_L1, encode(u"text"_s)},
                    {"data"_L1, encode(text)}, {"length"_L1, encode(double(bytes.size()))}}));
            else
                line(bytes);
        });
        connect(socket, &S::binaryMessageReceived, this, [this](const QByteArray &data) {
            const QByteArray base64 = data.toBase64();
            if (m_report)
                line(object({{"event"_L1, encode(u"message"_s)}, {"type"_L1, encode(u"binary"_s)},
                    {"data"_L1, encode(QString::fromLatin1(base64))},
                    {"length"_L1, encode(double(data.size()))}}));
            else
                line(base64);
        });
        connect(socket, &S::reconnecting, this, [this](int attempt, int delayMs) {
            if (m_report)
                line(object({{"event"_L1, encode(u"reconnecting"_s)},
                    {"attempt"_L1, encode(attempt)}, {"delayMs"_L1, encode(delayMs)}}));
            else
                printErr(
                    u"reqivo ws: reconnecting (attempt %1 in %2 ms)\n"_s.arg(attempt).arg(delayMs));
        });
        connect(socket, &S::disconnected, this, [this](int code, const QString &reason) {
            if (m_report)
                line(object({{"event"_L1, encode(u"close"_s)}, {"code"_L1, encode(code)},
                    {"reason"_L1, encode(reason)}}));
            updateReading();
        });
        connect(socket, &S::errorOccurred, this,
            [this](const Reqivo::Error &error) { reportError(error); });
        connect(socket, &S::bytesWritten, this, [this] { pump(); });
        connect(socket, &S::stateChanged, this, [this](S::State state) {
            if (state == S::State::Closed)
                ended();
            else
                updateReading();
        });
    }

    void start() { openSocket(m_socket.get()); }

private:
    static void line(const QByteArray &bytes)
    {
        writeStdout(bytes + '\n');
        std::fflush(stdout);
    }

    void reportError(const Reqivo::Error &error)
    {
        report(error.typeName(), error.code(), error.message(), errorText(error));
    }

    void report(const QString &type, int code, const QString &message, const QString &text)
    {
        m_failed = true;
        if (m_report)
            line(object({{"event"_L1, encode(u"error"_s)}, {"type"_L1, encode(type)},
                {"code"_L1, encode(code)}, {"message"_L1, encode(message)}}));
        else
            printErr(u"reqivo ws: %1\n"_s.arg(text));
    }

    void enqueue(const QString &text)
    {
        m_pendingBytes += text.size();
        m_pending.push_back(text);
    }

    bool isOpen() const { return m_socket->state() == Reqivo::AsyncWebSocket::State::Open; }

    //! Reads stdin only when there is room to send what it gives.
    void updateReading()
    {
        if (!m_stdin)
            return;
        m_stdin->setEnabled(!m_inputDone && !m_closing && isOpen() && m_pendingBytes < sendWindow
            && m_socket->bytesToWrite() < sendWindow);
    }

    void readInput()
    {
        char buffer[64 * 1024];
        const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                return;
            inputFailed(
                u"cannot read stdin: %1"_s.arg(QString::fromLocal8Bit(std::strerror(errno))));
            return;
        }
        if (n == 0) {
            // EOF: a last line without a newline is a line too.
            if (!m_partial.isEmpty())
                enqueueLine(std::exchange(m_partial, {}));
            m_inputDone = true;
            m_stdin->setEnabled(false);
            pump();
            return;
        }
        m_partial.append(buffer, qsizetype(n));
        qsizetype start = 0;
        for (qsizetype newline = m_partial.indexOf('\n'); newline >= 0;
             newline = m_partial.indexOf('\n', start)) {
            enqueueLine(m_partial.mid(start, newline - start));
            start = newline + 1;
        }
        m_partial.remove(0, start);
        if (m_partial.size() > maxLineBytes) {
            inputFailed(u"a line of stdin is longer than %1 bytes"_s.arg(maxLineBytes));
            return;
        }
        pump();
    }

    void enqueueLine(QByteArray bytes)
    {
        if (bytes.endsWith('\r'))
            bytes.chop(1);
        enqueue(QString::fromUtf8(bytes));
    }

    //! Input the command cannot send: reported as an error, and the connection dropped.
    void inputFailed(const QString &message)
    {
        m_inputDone = true;
        if (m_stdin)
            m_stdin->setEnabled(false);
        report(u"InputError"_s, 0, message, message);
        m_socket->abort();
    }

    //! Sends what is waiting while the connection is open and takes it; starts the wait once
    //! the input is done and everything was handed to the socket.
    void pump()
    {
        while (
            isOpen() && !m_closing && !m_pending.empty() && m_socket->bytesToWrite() < sendWindow) {
            const QString text = std::move(m_pending.front());
            m_pending.pop_front();
            m_pendingBytes -= text.size();
            if (!m_socket->sendTextMessage(text)) { // errorOccurred() told why
                m_socket->abort();
                return;
            }
        }
        updateReading();
        if (m_inputDone && m_pending.empty() && !m_waitStarted && !m_closing && isOpen()) {
            m_waitStarted = true;
            m_waitTimer.start(m_wait);
        }
    }

    //! After the wait: close once the connection is open (a reconnect in progress first ends).
    void closeIfWanted()
    {
        if (!m_closeWanted || m_closing || !isOpen())
            return;
        m_closing = true;
        updateReading();
        closeSocket(m_socket.get());
    }

    void ended()
    {
        if (m_ended)
            return;
        m_ended = true;
        m_waitTimer.stop();
        if (m_stdin)
            m_stdin->setEnabled(false);
        // errorOccurred() follows the state change in the same call: decide afterwards.
        QTimer::singleShot(0, this, [this] {
            std::fflush(stdout);
            QCoreApplication::exit(m_failed ? ExitFailed : ExitOk);
        });
    }

    bool m_report;
    bool m_readStdin;
    ms m_wait;
    std::unique_ptr<Reqivo::AsyncWebSocket> m_socket;
    std::unique_ptr<QSocketNotifier> m_stdin;
    std::deque<QString> m_pending; //!< read or given, not yet handed to the socket
    qint64 m_pendingBytes = 0;
    QByteArray m_partial; //!< the start of a line whose newline has not come yet
    QTimer m_waitTimer;
    bool m_inputDone = false;
    bool m_waitStarted = false;
    bool m_closeWanted = false;
    bool m_closing = false;
    bool m_failed = false;
    bool m_ended = false;
};

} // namespace

void reserveStdin()
{
    if (::fcntl(STDIN_FILENO, F_GETFD) == -1 && errno == EBADF) {
        const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC); // the lowest free: 0
        if (fd > STDIN_FILENO)
            ::close(fd);
    }
}

int runWs(const QStringList &arguments)
{
    // The WebSocket options first; everything else is the plain command's.
    WsOptions ws;
    QStringList rest {arguments.value(0)};
    for (qsizetype i = 2; i < arguments.size(); ++i) {
        const QString &a = arguments.at(i);
        if (a == u"--"_s) {
            rest << arguments.mid(i);
            break;
        }
        if (a == u"-h"_s || a == u"--help"_s || a == u"-?"_s || a == u"--help-all"_s) {
            writeStdout(helpText.toLocal8Bit());
            std::fflush(stdout);
            return ExitOk;
        }
        // "--name value" and "--name=value", as QCommandLineParser takes them.
        QString name = a;
        std::optional<QString> inlineValue;
        if (a.startsWith(u"--"_s) && a.contains(u'=')) {
            name = a.left(a.indexOf(u'='));
            inlineValue = a.mid(a.indexOf(u'=') + 1);
        }
        const auto value = [&]() -> std::optional<QString> {
            if (inlineValue)
                return inlineValue;
            if (i + 1 >= arguments.size())
                return std::nullopt;
            return arguments.at(++i);
        };
        if (name == u"--send"_s) {
            const auto v = value();
            if (!v)
                return usage(u"--send needs the text to send"_s);
            ws.sends << *v;
            ws.sendGiven = true;
        } else if (name == u"--wait"_s) {
            const auto v = value();
            const auto wait = v ? takeSeconds(*v, 0) : std::nullopt;
            if (!wait)
                return usage(u"--wait needs a number of seconds >= 0"_s);
            ws.wait = *wait;
        } else if (name == u"--subprotocol"_s) {
            const auto v = value();
            if (!v || !isToken(*v))
                return usage(u"--subprotocol needs a name (an HTTP token: no spaces, commas or "
                             "separators)"_s);
            if (ws.subprotocols.contains(*v))
                return usage(u"subprotocol '%1' given twice"_s.arg(*v));
            ws.subprotocols << *v;
        } else if (name == u"--reconnect"_s && !inlineValue) {
            ws.reconnect = true;
        } else if (name == u"--max-reconnects"_s) {
            const auto v = value();
            bool ok = false;
            const qint64 n = v ? v->toLongLong(&ok) : -1;
            if (!ok || n < 0 || n > INT_MAX)
                return usage(u"--max-reconnects needs a number >= 0"_s);
            ws.maxReconnects = int(n);
            ws.reconnect = true;
        } else if (name == u"--heartbeat"_s) {
            const auto v = value();
            const auto period = v ? takeSeconds(*v, 0) : std::nullopt;
            if (!period || period->count() <= 0)
                return usage(u"--heartbeat needs a number of seconds > 0"_s);
            ws.heartbeat = *period;
        } else if (name == u"--max-message-bytes"_s) {
            const auto v = value();
            bool ok = false;
            const qint64 n = v ? v->toLongLong(&ok) : 0;
            if (!ok || n < 1)
                return usage(u"--max-message-bytes needs a number of bytes >= 1"_s);
            ws.maxMessageBytes = n;
        } else if (name == u"--connect-timeout"_s) {
            const auto v = value();
            const auto limit = v ? takeSeconds(*v, 0) : std::nullopt;
            if (!limit)
                return usage(u"--connect-timeout needs a number of seconds >= 0"_s);
            ws.connectTimeout = limit->count() == 0 ? Reqivo::Timeout::noLimit : *limit;
        } else {
            rest << a;
        }
    }

    ParseResult parsed = parseArguments(rest);
    if (!parsed.options) {
        if (parsed.exitStatus == ExitOk) { // --version
            writeStdout(parsed.message.toLocal8Bit());
            std::fflush(stdout);
        } else {
            QString message = parsed.message;
            message.replace(u"reqivo: "_s, u"reqivo ws: "_s)
                .replace(u"'reqivo --help'"_s, u"'reqivo ws --help'"_s);
            printErr(message + u'\n');
        }
        return parsed.exitStatus;
    }
    const CliOptions &options = *parsed.options;

    // The plain command's options that have no meaning for a WebSocket.
    const std::pair<bool, const char *> inapplicable[] = {
        {!options.method.isEmpty(), "-X"},
        {options.body.has_value(), "-d/--json"},
        {options.form.has_value(), "-F"},
        {!options.outputFiles.isEmpty(), "-o"},
        {options.sync, "--sync"},
        {options.followRedirects.has_value() || options.maxRedirects.has_value(),
            "--no-follow/--max-redirects"},
        {options.timeout.has_value(), "--timeout/--read-timeout (see --connect-timeout)"},
        {options.retries.has_value(), "--retry (see --reconnect)"},
        {options.digest, "--digest"},
        {options.decompress.has_value(), "--compressed/--no-compressed"},
        {options.httpVersion.has_value() && *options.httpVersion != Reqivo::HttpVersion::Http1_1,
            "--http2/--http2-prior-knowledge"},
    };
    for (const auto &[given, what] : inapplicable) {
        if (given)
            return usage(u"%1 does not apply to a WebSocket"_s.arg(QString::fromLatin1(what)));
    }
    if (options.targets.size() != 1)
        return usage(u"one URL, not %1"_s.arg(options.targets.size()));
    const QString scheme = options.targets.first().url.scheme().toLower();
    if (scheme != u"ws"_s && scheme != u"wss"_s && scheme != u"http"_s && scheme != u"https"_s)
        return usage(u"not a WebSocket URL: '%1' (ws://, wss://, http:// or https://)"_s.arg(
            options.targets.first().argument));
    for (const Reqivo::Headers::Field field : options.headers) {
        if (isReservedField(field.name)) {
            return usage(Reqivo::Headers::nameEquals(field.name, "sec-websocket-protocol")
                    ? u"give subprotocols with --subprotocol, not -H"_s
                    : u"-H %1: the handshake sets this field itself"_s.arg(
                        QString::fromLatin1(field.name)));
        }
    }

    Reqivo::AsyncSession session;
    configureSession(session, options);
    WsRun run(session, options, ws);
    QTimer::singleShot(0, &run, [&run] { run.start(); });
    return QCoreApplication::exec();
}

} // namespace ReqivoCli
