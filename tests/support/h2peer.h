// The scripted HTTP/2 server of the tests: tests/support/h2peer.py (Debian python3-h2), one
// process per peer, started by the test itself rather than by a CTest fixture.
//
//   ReqivoTest::H2Peer peer;
//   START_H2_PEER(peer, u"goaway"_s);          // cleartext HTTP/2, prior knowledge
//   START_H2_PEER_TLS(peer, u"ok"_s);          // TLS, ALPN "h2"; trust peer.caFile()
//   const QUrl url = peer.url(u"/slow/100"_s);
//
// The script binds 127.0.0.1:0 and prints "PORT <n>"; it exits when its stdin closes, which
// stop() and the destructor do, and which the kernel does when the test process dies: no peer
// outlives its test. What it logs goes to a file (log()) rather than a pipe, so that a test that
// does not run its event loop can never stall it; a failed test prints it. A missing
// python3-h2 makes start() fail: the test fails, it never skips. h2peer.py --help lists the
// scenarios. Declare the test with reqivo_use_h2peer(<test>) in CMake.
#pragma once

#include <QByteArray>
#include <QFile>
#include <QProcess>
#include <QString>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

#include <memory>

#if !defined(REQIVO_H2PEER_SCRIPT) || !defined(REQIVO_MAKE_CERTS_SCRIPT)
#error "declare the test with reqivo_use_h2peer(<test>) in its CMakeLists.txt"
#endif

namespace ReqivoTest {

class H2Peer
{
public:
    enum class Transport { Cleartext, Tls };

    H2Peer() = default;
    ~H2Peer() { stop(); }
    H2Peer(const H2Peer &) = delete;
    H2Peer &operator=(const H2Peer &) = delete;

    //! Starts h2peer.py --scenario \a scenario and waits (at most 20 s) for its port. On
    //! failure returns false and says why in \a error.
    bool start(const QString &scenario, QString *error, Transport transport = Transport::Cleartext)
    {
        stop();
        m_transport = transport;
        if (!m_logDir.isValid()) {
            *error = QStringLiteral("no temporary directory: %1").arg(m_logDir.errorString());
            return false;
        }
        QStringList arguments {
            QStringLiteral(REQIVO_H2PEER_SCRIPT), QStringLiteral("--scenario"), scenario};
        if (transport == Transport::Tls) {
            const QString certs = certsDir(error);
            if (certs.isEmpty())
                return false;
            arguments << QStringLiteral("--tls") << certs + QStringLiteral("/server.pem")
                      << certs + QStringLiteral("/server.key");
            m_caFile = certs + QStringLiteral("/ca.pem");
        }
        m_logPath = m_logDir.filePath(QStringLiteral("h2peer-%1.log").arg(++m_starts));
        m_process = std::make_unique<QProcess>();
        m_process->setStandardErrorFile(m_logPath);
        m_process->start(QStringLiteral("/usr/bin/python3"), arguments);
        if (!m_process->waitForStarted(10000)) {
            *error
                = QStringLiteral("cannot start /usr/bin/python3: %1").arg(m_process->errorString());
            m_process.reset();
            return false;
        }
        // Blocking waits are fine here: this is the test, before the code under test runs.
        while (!m_process->canReadLine() && m_process->state() == QProcess::Running)
            m_process->waitForReadyRead(20000);
        const QByteArray line = m_process->readLine().trimmed();
        bool ok = false;
        if (line.startsWith("PORT "))
            m_port = line.mid(5).toUShort(&ok);
        if (!ok || m_port == 0) {
            m_process->waitForFinished(5000);
            *error = QStringLiteral("h2peer.py --scenario %1 did not start (it printed '%2'): %3")
                         .arg(scenario, QString::fromUtf8(line), QString::fromUtf8(log()));
            stop();
            return false;
        }
        return true;
    }

    quint16 port() const { return m_port; }

    //! http://127.0.0.1:<port><pathAndQuery>, or https:// for a TLS peer.
    QUrl url(const QString &pathAndQuery = QStringLiteral("/")) const
    {
        return QUrl(QStringLiteral("%1://127.0.0.1:%2%3")
                        .arg(m_transport == Transport::Tls ? QStringLiteral("https")
                                                           : QStringLiteral("http"))
                        .arg(m_port)
                        .arg(pathAndQuery));
    }

    //! The CA (PEM) that signed a TLS peer's certificate (SAN localhost, 127.0.0.1, ::1).
    QString caFile() const { return m_caFile; }

    //! Everything the peer has logged so far (one line per connection, request, reset, ...).
    QByteArray log() const
    {
        QFile file(m_logPath);
        return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
    }

    //! Closes the peer's stdin, which ends it, and waits for it (then kills it, after 5 s).
    void stop()
    {
        if (!m_process)
            return;
        if (m_process->state() != QProcess::NotRunning) {
            m_process->closeWriteChannel();
            if (!m_process->waitForFinished(5000)) {
                m_process->kill();
                m_process->waitForFinished(5000);
            }
        }
        if (QTest::currentTestFailed())
            qWarning("h2peer log:\n%s", log().constData());
        m_process.reset();
        m_port = 0;
    }

    //! The process, for tests of the peer itself.
    QProcess *process() const { return m_process.get(); }

private:
    //! make-certs.sh's set, made once per test process.
    static QString certsDir(QString *error)
    {
        static QTemporaryDir dir;
        static QString made;
        if (!made.isEmpty())
            return made;
        if (!dir.isValid()) {
            *error = QStringLiteral("no temporary directory: %1").arg(dir.errorString());
            return {};
        }
        QProcess make;
        make.setProcessChannelMode(QProcess::MergedChannels);
        make.start(
            QStringLiteral("/bin/bash"), {QStringLiteral(REQIVO_MAKE_CERTS_SCRIPT), dir.path()});
        if (!make.waitForFinished(60000) || make.exitStatus() != QProcess::NormalExit
            || make.exitCode() != 0) {
            *error = QStringLiteral("make-certs.sh failed: %1")
                         .arg(QString::fromLocal8Bit(make.readAll()));
            return {};
        }
        made = dir.path();
        return made;
    }

    std::unique_ptr<QProcess> m_process;
    QTemporaryDir m_logDir;
    QString m_logPath;
    QString m_caFile;
    Transport m_transport = Transport::Cleartext;
    quint16 m_port = 0;
    int m_starts = 0;
};

} // namespace ReqivoTest

//! Starts \a peer with \a scenario (cleartext, prior knowledge) or fails the test.
#define START_H2_PEER(peer, scenario)                                                              \
    do {                                                                                           \
        QString h2PeerError_;                                                                      \
        QVERIFY2((peer).start((scenario), &h2PeerError_), qPrintable(h2PeerError_));               \
    } while (false)

//! Starts \a peer with \a scenario over TLS (ALPN h2) or fails the test.
#define START_H2_PEER_TLS(peer, scenario)                                                          \
    do {                                                                                           \
        QString h2PeerError_;                                                                      \
        QVERIFY2((peer).start((scenario), &h2PeerError_, ReqivoTest::H2Peer::Transport::Tls),      \
            qPrintable(h2PeerError_));                                                             \
    } while (false)
