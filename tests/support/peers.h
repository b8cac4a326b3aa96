// Access for tests to the peers (nginx, httpbin) that CTest fixtures start on loopback.
//
// A fixture writes <REQIVO_PEERS_DIR>/<peer>.env, lines of KEY=VALUE (tests/support/peers/
// README.md lists the keys). A test declared with reqivo_use_peers() loads it here. Anything
// missing aborts the test with a message that says how to fix it: a test whose peer is absent
// fails, it never skips.
#pragma once

#include <QByteArray>
#include <QFile>
#include <QHash>
#include <QString>
#include <QUrl>
#include <QtGlobal>

namespace ReqivoTest {

//! The directory of the peers' env files: $REQIVO_PEERS_DIR, set by CTest for tests declared
//! with reqivo_use_peers(), else the build tree's default compiled into such tests.
inline QString peersDir()
{
    QString dir = qEnvironmentVariable("REQIVO_PEERS_DIR");
#ifdef REQIVO_PEERS_DIR
    if (dir.isEmpty())
        dir = QStringLiteral(REQIVO_PEERS_DIR);
#endif
    return dir;
}

//! Loads <peersDir>/<peer>.env ("nginx", "httpbin") into a hash. Aborts when it cannot.
inline QHash<QString, QString> loadPeerEnv(const QString &peer)
{
    const QString dir = peersDir();
    if (dir.isEmpty())
        qFatal("REQIVO_PEERS_DIR is not set: declare the test with "
               "reqivo_use_peers(<test> %s) in its CMakeLists.txt",
               qPrintable(peer));
    const QString path = dir + QLatin1Char('/') + peer + QStringLiteral(".env");
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
        qFatal("cannot read %s (%s). The %s peer is not running: declare the test with "
               "reqivo_use_peers(<test> %s) and run it through ctest, or start it by hand with "
               "tests/support/peers/%s.sh start --dir %s",
               qPrintable(path), qPrintable(file.errorString()), qPrintable(peer),
               qPrintable(peer), qPrintable(peer), qPrintable(dir));
    QHash<QString, QString> env;
    while (!file.atEnd()) {
        const QByteArray line = file.readLine().trimmed();
        if (line.isEmpty() || line.startsWith('#'))
            continue;
        const qsizetype eq = line.indexOf('=');
        if (eq <= 0)
            qFatal("%s: malformed line '%s'", qPrintable(path), line.constData());
        env.insert(QString::fromUtf8(line.left(eq)), QString::fromUtf8(line.mid(eq + 1)));
    }
    if (env.isEmpty())
        qFatal("%s is empty", qPrintable(path));
    return env;
}

//! env[key], aborting when the key is absent (a typo must not turn into an empty URL).
inline QString peerValue(const QHash<QString, QString> &env, const QString &key)
{
    const auto it = env.constFind(key);
    if (it == env.constEnd())
        qFatal("peer env has no key %s", qPrintable(key));
    return *it;
}

//! A URL on a peer: peerUrl(nginx, u"NGINX_HTTP_URL"_s, u"/small.txt"_s).
inline QUrl peerUrl(const QHash<QString, QString> &env, const QString &baseKey,
                    const QString &path = {})
{
    const QUrl url(peerValue(env, baseKey) + path);
    if (!url.isValid())
        qFatal("peer env %s gives an invalid URL", qPrintable(baseKey));
    return url;
}

} // namespace ReqivoTest
