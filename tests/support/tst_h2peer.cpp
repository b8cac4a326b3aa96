// The scripted HTTP/2 server (h2peer.py, through h2peer.h) checked frame by frame with a raw
// socket and a few hand-made frames, so that HTTP/2 tests can trust what each scenario sends.
// Nothing of Reqivo is used here.
#include "support/h2peer.h"

#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpSocket>
#include <QtEndian>
#include <QtTest>

#include <optional>

using namespace Qt::StringLiterals;

namespace {

constexpr int kTimeoutMs = 10000;

enum FrameType : quint8 {
    Data = 0,
    Headers = 1,
    RstStream = 3,
    Settings = 4,
    Ping = 6,
    GoAway = 7,
    WindowUpdate = 8,
    Continuation = 9,
};
enum Flag : quint8 { EndStream = 0x1, Ack = 0x1, EndHeaders = 0x4 };

struct Frame
{
    quint8 type = 0;
    quint8 flags = 0;
    quint32 stream = 0;
    QByteArray payload;

    quint32 u32(int at) const { return qFromBigEndian<quint32>(payload.constData() + at); }
};

QByteArray frame(quint8 type, quint8 flags, quint32 stream, const QByteArray &payload = {})
{
    QByteArray out(9, '\0');
    out[0] = char((payload.size() >> 16) & 0xff);
    out[1] = char((payload.size() >> 8) & 0xff);
    out[2] = char(payload.size() & 0xff);
    out[3] = char(type);
    out[4] = char(flags);
    qToBigEndian<quint32>(stream & 0x7fffffff, out.data() + 5);
    return out + payload;
}

QByteArray u32(quint32 value)
{
    QByteArray out(4, '\0');
    qToBigEndian(value, out.data());
    return out;
}

// A request header block in HPACK without the dynamic table or Huffman: static-table entries
// for the method and scheme, literals without indexing for :path and :authority.
QByteArray requestBlock(const QByteArray &method, const QByteArray &path, bool tls)
{
    QByteArray block;
    block += method == "GET" ? '\x82' : '\x83'; // GET or POST
    block += tls ? '\x87' : '\x86'; // https or http
    block += '\x04'; // :path, literal without indexing
    block += char(path.size());
    block += path;
    block += '\x01'; // :authority
    block += char(9);
    block += "127.0.0.1";
    return block;
}

// A minimal HTTP/2 client on a raw socket: the preface, hand-made frames, frames read back.
class RawClient
{
public:
    explicit RawClient(QTcpSocket *socket)
        : m_socket(socket)
    {
    }

    bool connect(quint16 port, const QByteArray &settingsPayload = {})
    {
        m_socket->connectToHost(u"127.0.0.1"_s, port);
        if (!m_socket->waitForConnected(kTimeoutMs))
            return false;
        return start(settingsPayload);
    }

    bool start(const QByteArray &settingsPayload = {})
    {
        m_socket->write(
            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(Settings, 0, 0, settingsPayload));
        return m_socket->waitForBytesWritten(kTimeoutMs) || m_socket->bytesToWrite() == 0;
    }

    void request(quint32 stream, const QByteArray &method, const QByteArray &path,
        const QByteArray &body = {}, bool tls = false)
    {
        m_socket->write(frame(Headers, EndHeaders | (body.isEmpty() ? EndStream : 0), stream,
            requestBlock(method, path, tls)));
        if (!body.isEmpty())
            m_socket->write(frame(Data, EndStream, stream, body));
        m_socket->flush();
    }

    void write(const QByteArray &bytes)
    {
        m_socket->write(bytes);
        m_socket->flush();
    }

    //! The next frame; SETTINGS from the server are acknowledged (when ackSettings). Nothing
    //! when the connection ends or nothing comes within the timeout.
    std::optional<Frame> next(bool ackSettings = true)
    {
        while (m_buffer.size() < 9 || m_buffer.size() < 9 + frameLength()) {
            if (m_socket->bytesAvailable() == 0 && !m_socket->waitForReadyRead(kTimeoutMs))
                return std::nullopt;
            m_buffer += m_socket->readAll();
        }
        Frame f;
        const int length = frameLength();
        f.type = quint8(m_buffer.at(3));
        f.flags = quint8(m_buffer.at(4));
        f.stream = qFromBigEndian<quint32>(m_buffer.constData() + 5) & 0x7fffffff;
        f.payload = m_buffer.mid(9, length);
        m_buffer.remove(0, 9 + length);
        if (ackSettings && f.type == Settings && !(f.flags & Ack))
            write(frame(Settings, Ack, 0));
        return f;
    }

    //! The next frame for which \a wanted is true (others are dropped).
    template<typename Predicate>
    std::optional<Frame> nextWhere(Predicate wanted, bool ackSettings = true)
    {
        while (true) {
            auto f = next(ackSettings);
            if (!f || wanted(*f))
                return f;
        }
    }

    //! The next frame that is not SETTINGS, WINDOW_UPDATE or PING.
    std::optional<Frame> nextOnStream()
    {
        while (true) {
            auto f = next();
            if (!f || (f->type != Settings && f->type != WindowUpdate && f->type != Ping))
                return f;
        }
    }

    //! Reads a whole response of \a stream: the body, whether HEADERS came, the end.
    struct Response
    {
        bool headers = false;
        bool ended = false;
        quint32 reset = 0xffffffff; //!< RST_STREAM's code, if one came
        QByteArray body;
        QByteArray firstHeaderBlock;
    };
    Response response(quint32 stream)
    {
        Response r;
        while (!r.ended) {
            const auto f = nextOnStream();
            if (!f)
                break;
            if (f->stream != stream)
                continue;
            if (f->type == Headers) {
                if (!r.headers)
                    r.firstHeaderBlock = f->payload;
                r.headers = true;
            } else if (f->type == Data) {
                r.body += f->payload;
            } else if (f->type == RstStream) {
                r.reset = f->u32(0);
                break;
            }
            r.ended = (f->type == Data || f->type == Headers) && (f->flags & EndStream);
        }
        return r;
    }

private:
    int frameLength() const
    {
        return (quint8(m_buffer.at(0)) << 16) | (quint8(m_buffer.at(1)) << 8)
            | quint8(m_buffer.at(2));
    }

    QTcpSocket *m_socket;
    QByteArray m_buffer;
};

// SETTINGS_INITIAL_WINDOW_SIZE 16 MiB, and the connection window raised as much: the client
// never has to send WINDOW_UPDATE for the bodies these tests read.
QByteArray bigWindowSettings()
{
    return QByteArray::fromHex("0004") + u32(16 << 20);
}
QByteArray bigConnectionWindow()
{
    return frame(WindowUpdate, 0, 0, u32(16 << 20));
}

} // namespace

class TestH2Peer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void okAnswersGet()
    {
        ReqivoTest::H2Peer peer;
        START_H2_PEER(peer, u"ok"_s);
        QVERIFY(peer.port() > 0);
        QCOMPARE(peer.url(u"/x"_s), QUrl(u"http://127.0.0.1:%1/x"_s.arg(peer.port())));
        QTcpSocket socket;
        RawClient client(&socket);
        QVERIFY(client.connect(peer.port()));
        // The server's connection preface is a SETTINGS frame.
        const auto first = client.next();
        QVERIFY(first);
        QCOMPARE(first->type, quint8(Settings));
        QCOMPARE(first->stream, 0u);
        client.request(1, "GET", "/hello?x=1");
        const auto r = client.response(1);
        QVERIFY(r.headers && r.ended);
        QCOMPARE(r.firstHeaderBlock.left(1), QByteArray("\x88")); // :status 200 (static table)
        QCOMPARE(r.body, QByteArray("hello /hello?x=1"));
    }

    void okEchoesBodies()
    {
        ReqivoTest::H2Peer peer;
        START_H2_PEER(peer, u"ok"_s);
        QTcpSocket socket;
        RawClient client(&socket);
        QVERIFY(client.connect(peer.port()));
        client.request(1, "POST", "/upload", "some request body");
        const auto r = client.response(1);
        QVERIFY(r.ended);
        QCOMPARE(r.body, QByteArray("some request body"));
    }

    void okLargeBodyFollowsThePattern()
    {
        ReqivoTest::H2Peer peer;
        START_H2_PEER(peer, u"ok"_s);
        QTcpSocket socket;
        RawClient client(&socket);
        QVERIFY(client.connect(peer.port(), bigWindowSettings()));
        client.write(bigConnectionWindow());
        client.request(1, "GET", "/large/300000");
        const auto r = client.response(1);
        QVERIFY(r.ended);
        QCOMPARE(r.body.size(), 300000);
        for (int i = 0; i < r.body.size(); ++i) {
            if (quint8(r.body.at(i)) != i % 251)
                QFAIL(qPrintable(u"byte %1 is %2"_s.arg(i).arg(quint8(r.body.at(i)))));
        }
    }

    void okTrailers()
    {
        ReqivoTest::H2Peer peer;
        START_H2_PEER(peer, u"ok"_s);
        QTcpSocket socket;
        RawClient client(&socket);
        QVERIFY(client.connect(peer.port()));
        client.request(1, "GET", "/trailers");
        // HEADERS, DATA without END_STREAM, then HEADERS (the trailers) with END_STREAM.
        QList<quint8> types;
        bool ended = false;
        while (!ended) {
            const auto f = client.nextOnStream();
            QVERIFY(f);
            types << f->type;
            ended = f->flags & EndStream;
        }
        QCOMPARE(types, (QList<quint8> {Headers, Data, Headers}));
    }

    void scenarioSettings_data()
    {
        QTest::addColumn<QString>("scenario");
        QTest::addColumn<quint16>("setting");
        QTest::addColumn<quint32>("value");
        QTest::newRow("ok") << u"ok"_s << quint16(3) << 100u; // MAX_CONCURRENT_STREAMS
        QTest::newRow("maxstreams1") << u"maxstreams1"_s << quint16(3) << 1u;
        QTest::newRow("nowindow") << u"nowindow"_s << quint16(4) << 0u; // INITIAL_WINDOW_SIZE
    }
    void scenarioSettings()
    {
        QFETCH(QString, scenario);
        QFETCH(quint16, setting);
        QFETCH(quint32, value);
        ReqivoTest::H2Peer peer;
        START_H2_PEER(peer, scenario);
        QTcpSocket socket;
        RawClient client(&socket);
        QVERIFY(client.connect(peer.port()));
        const auto f = client.next();
        QVERIFY(f && f->type == Settings);
        std::optional<quint32> seen;
        for (int at = 0; at + 6 <= f->payload.size(); at += 6) {
            if (qFromBigEndian<quint16>(f->payload.constData() + at) == setting)
                seen = f->u32(at + 2);
        }
        QVERIFY2(seen, "the setting is not in the server's first SETTINGS frame");
        QCOMPARE(*seen, value);
    }

    void refuseRefusesEachPathOnce()
    {
        ReqivoTest::H2Peer peer;
        START_H2_PEER(peer, u"refuse"_s);
        QTcpSocket socket;
        RawClient client(&socket);
        QVERIFY(client.connect(peer.port()));
        client.request(1, "GET", "/a");
        QCOMPARE(client.response(1).reset, 7u); // REFUSED_STREAM
        client.request(3, "GET", "/a");
        QCOMPARE(client.response(3).body, QByteArray("hello /a"));
        client.request(5, "GET", "/refuse-always/b");
        QCOMPARE(client.response(5).reset, 7u);
        client.request(7, "GET", "/refuse-always/b");
        QCOMPARE(client.response(7).reset, 7u);
    }

    void resetResetsAfterHeaders_data()
    {
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<bool>("headers");
        QTest::addColumn<int>("bodyBytes");
        QTest::newRow("/reset") << QByteArray("/reset") << true << 0;
        QTest::newRow("/reset-early") << QByteArray("/reset-early") << false << 0;
        QTest::newRow("/reset-body") << QByteArray("/reset-body") << true << 1000;
    }
    void resetResetsAfterHeaders()
    {
        QFETCH(QByteArray, path);
        QFETCH(bool, headers);
        QFETCH(int, bodyBytes);
        ReqivoTest::H2Peer peer;
        START_H2_PEER(peer, u"reset"_s);
        QTcpSocket socket;
        RawClient client(&socket);
        QVERIFY(client.connect(peer.port()));
        client.request(1, "GET", path);
        const auto r = client.response(1);
        QCOMPARE(r.reset, 2u); // INTERNAL_ERROR
        QCOMPARE(r.headers, headers);
        QCOMPARE(r.body.size(), bodyBytes);
        client.request(3, "GET", "/fine");
        QCOMPARE(client.response(3).body, QByteArray("hello /fine"));
    }

    void goawayAnswersTheFirstStreamOnly()
    {
        ReqivoTest::H2Peer peer;
        START_H2_PEER(peer, u"goaway"_s);
        QTcpSocket socket;
        RawClient client(&socket);
        QVERIFY(client.connect(peer.port()));
        client.request(1, "GET", "/slow/100");
        client.request(3, "GET", "/second");
        std::optional<quint32> lastStream;
        QByteArray body;
        bool ended = false;
        while (const auto f = client.next()) {
            if (f->type == GoAway) {
                QCOMPARE(f->u32(4), 0u); // NO_ERROR
                lastStream = f->u32(0);
            } else if (f->type == Data || f->type == Headers || f->type == RstStream) {
                QCOMPARE(f->stream, 1u); // stream 3 gets nothing at all
                body += f->type == Data ? f->payload : QByteArray();
                ended = ended || (f->flags & EndStream);
            }
        }
        // The loop ended because the server closed the connection.
        QCOMPARE(socket.state(), QAbstractSocket::UnconnectedState);
        QCOMPARE(lastStream, std::optional<quint32>(1));
        QVERIFY(ended);
        QCOMPARE(body, QByteArray("hello /slow/100"));

        // The next connection behaves as "ok".
        QTcpSocket again;
        RawClient second(&again);
        QVERIFY(second.connect(peer.port()));
        second.request(1, "GET", "/one");
        second.request(3, "GET", "/two");
        QCOMPARE(second.response(1).body, QByteArray("hello /one"));
        QCOMPARE(second.response(3).body, QByteArray("hello /two"));
    }

    void tlsNegotiatesH2()
    {
        ReqivoTest::H2Peer peer;
        START_H2_PEER_TLS(peer, u"ok"_s);
        QCOMPARE(peer.url(u"/x"_s).scheme(), u"https"_s);
        QSslConfiguration config = QSslConfiguration::defaultConfiguration();
        config.setCaCertificates(QSslCertificate::fromPath(peer.caFile()));
        QVERIFY(!config.caCertificates().isEmpty());
        config.setAllowedNextProtocols(
            {QSslConfiguration::ALPNProtocolHTTP2, QSslConfiguration::NextProtocolHttp1_1});
        QSslSocket socket;
        socket.setSslConfiguration(config);
        socket.connectToHostEncrypted(u"127.0.0.1"_s, peer.port());
        QVERIFY2(socket.waitForEncrypted(kTimeoutMs), qPrintable(socket.errorString()));
        QCOMPARE(socket.sslConfiguration().nextNegotiatedProtocol(),
            QByteArray(QSslConfiguration::ALPNProtocolHTTP2));
        RawClient client(&socket);
        QVERIFY(client.start());
        client.request(1, "GET", "/over-tls", {}, true);
        QCOMPARE(client.response(1).body, QByteArray("hello /over-tls"));
    }

    void badHpack()
    {
        ReqivoTest::H2Peer peer;
        START_H2_PEER(peer, u"bad-hpack"_s);
        QTcpSocket socket;
        RawClient client(&socket);
        QVERIFY(client.connect(peer.port()));
        client.request(1, "GET", "/");
        const auto f = client.nextOnStream();
        QVERIFY(f);
        QCOMPARE(f->type, quint8(Headers));
        QCOMPARE(f->payload, QByteArray("\x88\xbf")); // index 63: no such table entry
    }

    void floods_data()
    {
        QTest::addColumn<QString>("scenario");
        QTest::addColumn<quint8>("type");
        QTest::newRow("continuation-flood") << u"continuation-flood"_s << quint8(Continuation);
        QTest::newRow("ping-flood") << u"ping-flood"_s << quint8(Ping);
        QTest::newRow("settings-flood") << u"settings-flood"_s << quint8(Settings);
    }
    void floods()
    {
        QFETCH(QString, scenario);
        QFETCH(quint8, type);
        ReqivoTest::H2Peer peer;
        START_H2_PEER(peer, scenario);
        QTcpSocket socket;
        RawClient client(&socket);
        QVERIFY(client.connect(peer.port()));
        const auto preface = client.next();
        QVERIFY(preface && preface->type == Settings);
        client.request(1, "GET", "/");
        auto f = client.nextWhere(
            [](const Frame &g) { return !(g.type == Settings && g.flags & Ack); }, false);
        QVERIFY(f);
        if (type == Continuation) {
            QCOMPARE(f->type, quint8(Headers));
            QVERIFY(!(f->flags & EndHeaders));
        } else {
            QCOMPARE(f->type, type);
        }
        for (int i = 0; i < 1000; ++i) {
            f = client.next(false);
            QVERIFY(f);
            QCOMPARE(f->type, type);
            QVERIFY(!(f->flags & (type == Continuation ? EndHeaders : Ack)));
        }
        socket.abort();
    }

    void dataBeyondWindow()
    {
        ReqivoTest::H2Peer peer;
        START_H2_PEER(peer, u"data-beyond-window"_s);
        QTcpSocket socket;
        RawClient client(&socket);
        QVERIFY(client.connect(peer.port())); // default windows: 65,535 bytes, never updated
        client.request(1, "GET", "/");
        const auto r = client.response(1);
        QVERIFY(r.headers && r.ended);
        QCOMPARE(r.body.size(), 65535 + 1024 * 1024);
    }

    void nowindowNeverOpensTheWindow()
    {
        ReqivoTest::H2Peer peer;
        START_H2_PEER(peer, u"nowindow"_s);
        QTcpSocket socket;
        RawClient client(&socket);
        QVERIFY(client.connect(peer.port()));
        QVERIFY(client.next()); // the server's SETTINGS, acknowledged by next()
        // Once the server sees the ACK, a body can no longer be sent: a DATA frame now is a
        // flow-control error, which the server answers with GOAWAY(FLOW_CONTROL_ERROR).
        QVERIFY(
            client.nextWhere([](const Frame &g) { return g.type == Settings && g.flags & Ack; }));
        client.request(1, "GET", "/fine");
        QCOMPARE(client.response(1).body, QByteArray("hello /fine"));
        client.write(frame(Headers, EndHeaders, 3, requestBlock("POST", "/up", false))
            + frame(Data, EndStream, 3, "x"));
        const auto goaway = client.nextWhere([](const Frame &g) { return g.type == GoAway; });
        QVERIFY(goaway);
        QCOMPARE(goaway->u32(4), 3u); // FLOW_CONTROL_ERROR
    }

    void silentPingAnswersOnlyTheFirstRequest()
    {
        ReqivoTest::H2Peer peer;
        START_H2_PEER(peer, u"silent-ping"_s);
        QTcpSocket socket;
        RawClient client(&socket);
        QVERIFY(client.connect(peer.port()));
        client.request(1, "GET", "/first");
        QCOMPARE(client.response(1).body, QByteArray("hello /first"));
        client.write(frame(Ping, 0, 0, QByteArray(8, 'p')));
        client.request(3, "GET", "/second");

        QTcpSocket otherSocket;
        RawClient other(&otherSocket);
        QVERIFY(other.connect(peer.port()));
        other.request(1, "GET", "/other");
        QCOMPARE(other.response(1).body, QByteArray("hello /other"));
        // The first connection is open, and nothing came on it: no PING ACK, no answer.
        QCoreApplication::processEvents();
        QCOMPARE(socket.state(), QAbstractSocket::ConnectedState);
        QCOMPARE(socket.bytesAvailable(), 0);
        QVERIFY(!peer.log().contains("conn 1: stream 3"));
    }

    void stdinEndsThePeer()
    {
        ReqivoTest::H2Peer peer;
        START_H2_PEER(peer, u"ok"_s);
        QProcess *process = peer.process();
        process->closeWriteChannel();
        QVERIFY(process->waitForFinished(kTimeoutMs));
        QCOMPARE(process->exitStatus(), QProcess::NormalExit);
        QCOMPARE(process->exitCode(), 0);
    }

    void unknownScenarioFails()
    {
        ReqivoTest::H2Peer peer;
        QString error;
        QVERIFY(!peer.start(u"no-such-scenario"_s, &error));
        QVERIFY2(error.contains(u"invalid choice"_s), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(TestH2Peer)
#include "tst_h2peer.moc"
