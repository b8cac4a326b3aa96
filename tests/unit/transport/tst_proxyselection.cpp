// Proxy selection: curl's no_proxy matching (the cases of curl's lib/noproxy.c and its unit
// test 1614), proxy URLs as curl accepts them, the environment variables curl reads (HTTP_PROXY
// ignored) and the precedence of a session's settings.
#include "transport/proxyselection.h"

#include <QTest>

using namespace Qt::StringLiterals;
using Reqivo::Transport::noProxyMatches;
using Reqivo::Transport::parseProxyUrl;
using Reqivo::Transport::ProxyEnvironment;
using Reqivo::Transport::ProxyPolicy;

namespace {

const char *const proxyVariables[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
    "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"};

// Sets the proxy variables for one test and puts the previous ones back afterwards.
class ScopedProxyEnvironment
{
public:
    ScopedProxyEnvironment()
    {
        for (const char *name : proxyVariables) {
            m_saved.append({name, qEnvironmentVariableIsSet(name), qgetenv(name)});
            qunsetenv(name);
        }
    }
    ~ScopedProxyEnvironment()
    {
        for (const Saved &s : m_saved) {
            if (s.set)
                qputenv(s.name, s.value);
            else
                qunsetenv(s.name);
        }
    }
    ScopedProxyEnvironment(const ScopedProxyEnvironment &) = delete;
    ScopedProxyEnvironment &operator=(const ScopedProxyEnvironment &) = delete;

private:
    struct Saved
    {
        const char *name;
        bool set;
        QByteArray value;
    };
    QList<Saved> m_saved;
};

} // namespace

class TestProxySelection : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void noProxy_data()
    {
        QTest::addColumn<QString>("host");
        QTest::addColumn<QString>("list");
        QTest::addColumn<bool>("exempt");
        auto row = [](const char *host, const char *list, bool exempt) {
            QTest::addRow("%s in \"%s\"", host, list)
                << QString::fromUtf8(host) << QString::fromUtf8(list) << exempt;
        };
        // Host names: the name itself and names below it, at a label boundary only.
        row("www.example.com", "localhost,.example.com,.example.de", true);
        row("www.example.com", "localhost,www.example.com,.example.de", true);
        row("example.com", "localhost,.example.com,.example.de", true);
        row("www.example.com", "localhost,example.com,.example.de", true);
        row("nexample.com", "localhost,example.com,.example.de", false);
        row("www.example.com", "localhost,example,.example.de", false);
        row("www.example.com", "example.co", false);
        row("example.com", "www.example.com", false);
        row("WWW.Example.COM", "example.com", true); // case-insensitive
        row("www.example.com", "EXAMPLE.com", true);
        row("www.example.com.", "example.com", true); // trailing dots ignored
        row("www.example.com", "example.com.", true);
        row("localhost", "localhost", true);
        row("localhost", "localhost:8080", false); // no port rule
        // "*" only as the whole list.
        row("www.example.com", "*", true);
        row("127.0.0.1", "*", true);
        row("www.example.com", "*,localhost", false);
        row("www.example.com", "", false);
        row("www.example.com", ",", false);
        // Blanks around items; anything but a comma after an item ends the list.
        row("www.example.com", "  localhost ,  example.com  ", true);
        row("www.example.com", "localhost,,,example.com", true);
        row("www.example.com", "localhost example.com", false);
        row("www.example.com", "example.com localhost", true);
        // IPv4: addresses and CIDR ranges, no name matching.
        row("127.0.0.1", "127.0.0.1,localhost", true);
        row("127.0.0.1", "127.0.0.1,localhost,", true);
        row("127.0.0.1", "localhost,127.0.0.1", true);
        row("127.0.0.1", "127.0.0.1/8,localhost,", true);
        row("127.0.0.1", "127.0.0.0/8", true);
        row("127.0.0.1", "127.0.0.1/28", true);
        row("127.0.0.1", "127.0.0.1/31", true);
        row("127.0.0.1", "127.0.0.2/31", false);
        row("127.0.0.1", "127.0.0.2/30", true);
        row("10.1.2.3", "10.0.0.0/16", false);
        row("10.1.2.3", "10.1.0.0/16", true);
        row("10.1.2.3", "0.0.0.0/0", false); // curl: no bits means the whole address
        row("127.0.0.1", "127.0.0.1/33", false);
        row("127.0.0.1", "127.0.0.2", false);
        row("127.0.0.1", "0.0.1", false);
        row("127.0.0.1", "localhost", false);
        row("127.0.0.1", "0.1", false); // not a domain suffix
        // IPv6, with or without brackets.
        row("::1", "::1,localhost", true);
        row("[::1]", "::1,localhost", true);
        row("::1", "[::1]", false); // items are plain addresses
        row("::1", "::1/128", true);
        row("::1", "::0/127", true);
        row("::1", "::2/127", false);
        row("fe80::ab47:4396:55c9:8474", "fe80::ab47:4396:55c9:8474/64", true);
        row("fe80::ab47:4396:55c9:8474", "fe80::1/64", true);
        row("fe80::ab47:4396:55c9:8474", "fe81::/64", false);
        row("fe80::1", "fe80::/10", true);
        row("2001:db8::1", "2001:db8::/32", true);
        row("2001:db9::1", "2001:db8::/32", false);
        row("::1", "127.0.0.1", false);
    }
    void noProxy()
    {
        QFETCH(QString, host);
        QFETCH(QString, list);
        QFETCH(bool, exempt);
        QCOMPARE(noProxyMatches(host, list), exempt);
    }

    void proxyUrl_data()
    {
        QTest::addColumn<QString>("value");
        QTest::addColumn<int>("type"); // QNetworkProxy::ProxyType; -1: an error
        QTest::addColumn<QString>("host");
        QTest::addColumn<int>("port");
        QTest::addColumn<QString>("user");
        QTest::addColumn<QString>("password");
        QTest::addColumn<bool>("remoteLookup");
        const int http = QNetworkProxy::HttpProxy;
        const int socks = QNetworkProxy::Socks5Proxy;
        QTest::newRow("host:port") << u"proxy.example:3128"_s << http << u"proxy.example"_s << 3128
                                   << QString() << QString() << true;
        QTest::newRow("host only: curl's 1080") << u"proxy.example"_s << http << u"proxy.example"_s
                                                << 1080 << QString() << QString() << true;
        QTest::newRow("http URL") << u"http://10.0.0.1:8080/"_s << http << u"10.0.0.1"_s << 8080
                                  << QString() << QString() << true;
        QTest::newRow("http URL, no port")
            << u"http://proxy.example"_s << http << u"proxy.example"_s << 1080 << QString()
            << QString() << true;
        QTest::newRow("upper-case scheme")
            << u"HTTP://proxy.example:1"_s << http << u"proxy.example"_s << 1 << QString()
            << QString() << true;
        QTest::newRow("credentials, percent-encoded")
            << u"http://us%40er:p%3Ass@proxy.example:3128"_s << http << u"proxy.example"_s << 3128
            << u"us@er"_s << u"p:ss"_s << true;
        QTest::newRow("IPv6") << u"http://[::1]:3128"_s << http << u"::1"_s << 3128 << QString()
                              << QString() << true;
        QTest::newRow("blanks around")
            << u"  http://p:1  "_s << http << u"p"_s << 1 << QString() << QString() << true;
        QTest::newRow("socks5: names resolved here")
            << u"socks5://s.example:1081"_s << socks << u"s.example"_s << 1081 << QString()
            << QString() << false;
        QTest::newRow("socks5h: names resolved by the proxy")
            << u"socks5h://u:p@s.example"_s << socks << u"s.example"_s << 1080 << u"u"_s << u"p"_s
            << true;
        QTest::newRow("https proxy") << u"https://p.example:443"_s << -1 << QString() << 0
                                     << QString() << QString() << false;
        QTest::newRow("socks4") << u"socks4://p.example"_s << -1 << QString() << 0 << QString()
                                << QString() << false;
        QTest::newRow("no host") << u"http://:8080"_s << -1 << QString() << 0 << QString()
                                 << QString() << false;
    }
    void proxyUrl()
    {
        QFETCH(QString, value);
        QFETCH(int, type);
        const auto choice = parseProxyUrl(value, u"TEST_PROXY"_s);
        if (type < 0) {
            QVERIFY(!choice.error.isEmpty());
            QVERIFY2(choice.error.contains(u"TEST_PROXY"_s), qPrintable(choice.error));
            return;
        }
        QFETCH(QString, host);
        QFETCH(int, port);
        QFETCH(QString, user);
        QFETCH(QString, password);
        QFETCH(bool, remoteLookup);
        QVERIFY2(choice.error.isEmpty(), qPrintable(choice.error));
        QCOMPARE(int(choice.proxy.type()), type);
        QCOMPARE(choice.proxy.hostName(), host);
        QCOMPARE(int(choice.proxy.port()), port);
        QCOMPARE(choice.proxy.user(), user);
        QCOMPARE(choice.proxy.password(), password);
        if (type == QNetworkProxy::Socks5Proxy) {
            QCOMPARE(bool(choice.proxy.capabilities() & QNetworkProxy::HostNameLookupCapability),
                remoteLookup);
        }
    }

    void environment_data()
    {
        QTest::addColumn<QStringList>("variables"); // name=value
        QTest::addColumn<QString>("http");
        QTest::addColumn<QString>("https");
        QTest::addColumn<QString>("noProxy");
        QTest::newRow("none") << QStringList() << QString() << QString() << QString();
        QTest::newRow("HTTP_PROXY is ignored")
            << QStringList {u"HTTP_PROXY=h:1"_s} << QString() << QString() << QString();
        QTest::newRow("http_proxy for http only")
            << QStringList {u"http_proxy=h:1"_s} << u"h:1"_s << QString() << QString();
        QTest::newRow("https_proxy before HTTPS_PROXY")
            << QStringList {u"https_proxy=a:1"_s, u"HTTPS_PROXY=b:1"_s} << QString() << u"a:1"_s
            << QString();
        QTest::newRow("HTTPS_PROXY")
            << QStringList {u"HTTPS_PROXY=b:1"_s} << QString() << u"b:1"_s << QString();
        QTest::newRow("all_proxy for both") << QStringList {u"all_proxy=x:1"_s, u"ALL_PROXY=y:1"_s}
                                            << u"x:1"_s << u"x:1"_s << QString();
        QTest::newRow("ALL_PROXY for both")
            << QStringList {u"ALL_PROXY=y:1"_s} << u"y:1"_s << u"y:1"_s << QString();
        QTest::newRow("HTTP_PROXY does not hide all_proxy") << QStringList {u"HTTP_PROXY=h:1"_s,
            u"all_proxy=x:1"_s} << u"x:1"_s << u"x:1"_s << QString();
        QTest::newRow("scheme's own before all_proxy")
            << QStringList {u"http_proxy=h:1"_s, u"https_proxy=s:1"_s, u"all_proxy=x:1"_s}
            << u"h:1"_s << u"s:1"_s << QString();
        QTest::newRow("set but empty hides all_proxy")
            << QStringList {u"https_proxy="_s, u"all_proxy=x:1"_s} << u"x:1"_s << QString()
            << QString();
        QTest::newRow("no_proxy before NO_PROXY")
            << QStringList {u"no_proxy=a"_s, u"NO_PROXY=b"_s} << QString() << QString() << u"a"_s;
        QTest::newRow("NO_PROXY") << QStringList {u"NO_PROXY=b"_s} << QString() << QString()
                                  << u"b"_s;
    }
    void environment()
    {
        QFETCH(QStringList, variables);
        QFETCH(QString, http);
        QFETCH(QString, https);
        QFETCH(QString, noProxy);
        const ScopedProxyEnvironment scope;
        for (const QString &v : variables) {
            const qsizetype eq = v.indexOf(QLatin1Char('='));
            qputenv(v.left(eq).toLatin1().constData(), v.mid(eq + 1).toUtf8());
        }
        const ProxyEnvironment env = ProxyEnvironment::fromProcess();
        QCOMPARE(env.http, http);
        QCOMPARE(env.https, https);
        QCOMPARE(env.noProxy, noProxy);
    }

    void policy_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<QString>("explicitProxy"); // "" DefaultProxy, "none" NoProxy
        QTest::addColumn<bool>("fromEnvironment");
        QTest::addColumn<QStringList>("noProxy");
        QTest::addColumn<QString>("expected"); // "default", "none", "host:port", "error"
        const QStringList none;
        QTest::newRow("http:// takes http_proxy")
            << u"http://a.example/"_s << QString() << true << none << u"envhttp:1"_s;
        QTest::newRow("ws:// is http://")
            << u"ws://a.example/"_s << QString() << true << none << u"envhttp:1"_s;
        QTest::newRow("https:// takes https_proxy")
            << u"https://a.example/"_s << QString() << true << none << u"envhttps:2"_s;
        QTest::newRow("wss:// is https://")
            << u"wss://a.example/"_s << QString() << true << none << u"envhttps:2"_s;
        QTest::newRow("loopback is not special")
            << u"http://127.0.0.1:8080/"_s << QString() << true << none << u"envhttp:1"_s;
        QTest::newRow("environment's no_proxy")
            << u"http://b.internal/"_s << QString() << true << none << u"none"_s;
        QTest::newRow("environment off")
            << u"http://a.example/"_s << QString() << false << none << u"default"_s;
        QTest::newRow("setProxy beats the environment")
            << u"http://a.example/"_s << u"mine:3"_s << true << none << u"mine:3"_s;
        QTest::newRow("setProxy(NoProxy) beats the environment")
            << u"https://a.example/"_s << u"none"_s << true << none << u"none"_s;
        QTest::newRow("setProxy ignores the environment's no_proxy")
            << u"http://b.internal/"_s << u"mine:3"_s << true << none << u"mine:3"_s;
        QTest::newRow("setNoProxy beats setProxy")
            << u"http://x.corp/"_s << u"mine:3"_s << true << QStringList {u".corp"_s} << u"none"_s;
        QTest::newRow("setNoProxy \"*\" item") << u"http://a.example/"_s << u"mine:3"_s << true
                                               << QStringList {u"x"_s, u"*"_s} << u"none"_s;
        QTest::newRow("setNoProxy replaces the environment's no_proxy")
            << u"http://b.internal/"_s << QString() << true << QStringList {u"x.corp"_s}
            << u"envhttp:1"_s;
        QTest::newRow("setNoProxy exempts from the environment's proxy")
            << u"https://10.1.2.3/"_s << QString() << true << QStringList {u"10.0.0.0/8"_s}
            << u"none"_s;
    }
    void policy()
    {
        QFETCH(QString, url);
        QFETCH(QString, explicitProxy);
        QFETCH(bool, fromEnvironment);
        QFETCH(QStringList, noProxy);
        QFETCH(QString, expected);
        ProxyPolicy policy;
        policy.environment.http = u"envhttp:1"_s;
        policy.environment.https = u"http://envhttps:2"_s;
        policy.environment.noProxy = u"localhost, .internal"_s;
        policy.fromEnvironment = fromEnvironment;
        policy.noProxy = noProxy;
        if (explicitProxy == u"none"_s)
            policy.explicitProxy = QNetworkProxy(QNetworkProxy::NoProxy);
        else if (!explicitProxy.isEmpty())
            policy.explicitProxy
                = QNetworkProxy(QNetworkProxy::HttpProxy, explicitProxy.section(u':', 0, 0),
                    quint16(explicitProxy.section(u':', 1).toUInt()));
        const auto choice = policy.select(QUrl(url));
        QVERIFY2(choice.error.isEmpty(), qPrintable(choice.error));
        QString got;
        switch (choice.proxy.type()) {
        case QNetworkProxy::DefaultProxy:
            got = u"default"_s;
            break;
        case QNetworkProxy::NoProxy:
            got = u"none"_s;
            break;
        default:
            got = choice.proxy.hostName() + u':' + QString::number(choice.proxy.port());
            QCOMPARE(choice.proxy.type(), QNetworkProxy::HttpProxy);
        }
        QCOMPARE(got, expected);
    }

    void unsupportedSchemeIsAnErrorOnlyWhenUsed()
    {
        ProxyPolicy policy;
        policy.environment.http = u"http://fine:1"_s;
        policy.environment.https = u"https://tls-proxy.example:443"_s;
        policy.environment.noProxy.clear();
        QVERIFY(policy.select(QUrl(u"http://a.example/"_s)).error.isEmpty());
        const auto choice = policy.select(QUrl(u"https://a.example/"_s));
        QVERIFY(!choice.error.isEmpty());
        QVERIFY2(choice.error.contains(u"\"https\""_s), qPrintable(choice.error));
        // Never the value itself: it may carry credentials.
        policy.environment.https = u"socks4://user:secret@p:1"_s;
        QVERIFY(!policy.select(QUrl(u"https://a.example/"_s)).error.contains(u"secret"_s));
    }

    // Debian's Qt reads the system configuration through libproxy, which takes http_proxy from
    // the environment when no desktop configuration is found (for https:// too, and for
    // loopback hosts as well).
    void systemProxyIsOptIn()
    {
        const ScopedProxyEnvironment scope;
        qputenv("http_proxy", "http://sysproxy.example:3129");
        ProxyPolicy policy;
        policy.environment = {};
        QCOMPARE(
            policy.select(QUrl(u"http://a.example/"_s)).proxy.type(), QNetworkProxy::DefaultProxy);
        policy.useSystem = true;
        const auto choice = policy.select(QUrl(u"http://a.example/"_s));
        QVERIFY2(choice.error.isEmpty(), qPrintable(choice.error));
        QCOMPARE(choice.proxy.type(), QNetworkProxy::HttpProxy);
        QCOMPARE(choice.proxy.hostName(), u"sysproxy.example"_s);
        QCOMPARE(choice.proxy.port(), quint16(3129));
        // libproxy (Debian's Qt) proxies loopback too, and https:// with http_proxy.
        QCOMPARE(policy.select(QUrl(u"http://127.0.0.1:8080/"_s)).proxy.hostName(),
            u"sysproxy.example"_s);
        QCOMPARE(
            policy.select(QUrl(u"https://a.example/"_s)).proxy.hostName(), u"sysproxy.example"_s);
        // setProxy() and setNoProxy() still win.
        policy.noProxy = {u"a.example"_s};
        QCOMPARE(policy.select(QUrl(u"http://a.example/"_s)).proxy.type(), QNetworkProxy::NoProxy);
        policy.noProxy.clear();
        policy.explicitProxy = QNetworkProxy(QNetworkProxy::NoProxy);
        QCOMPARE(policy.select(QUrl(u"http://a.example/"_s)).proxy.type(), QNetworkProxy::NoProxy);
    }
};

QTEST_GUILESS_MAIN(TestProxySelection)
#include "tst_proxyselection.moc"
