// Reqivo::Error and the exception hierarchy. The two views of one failure must agree: the
// class raise() throws is the one named by the kind, and isA() answers exactly what a catch
// clause of each class would. The test checks that agreement over every pair of kinds, with real
// throw/catch, so a new class added to one side only is caught here.
#include <Reqivo/Errors>

#include <QMap>
#include <QMetaEnum>
#include <QMetaProperty>
#include <QTest>

#include <functional>
#include <stdexcept>
#include <typeinfo>

using namespace Reqivo;
using Kind = Error::Kind;

Q_DECLARE_METATYPE(std::exception_ptr)

namespace {
const QList<Kind> allKinds {
    Kind::Reqivo,
    Kind::Request,
    Kind::Network,
    Kind::Tls,
    Kind::Timeout,
    Kind::ConnectTimeout,
    Kind::ReadTimeout,
    Kind::WriteTimeout,
    Kind::PoolTimeout,
    Kind::Protocol,
    Kind::InvalidResponse,
    Kind::RedirectLoop,
    Kind::TooManyRedirects,
    Kind::Status,
    Kind::WebSocket,
};

//! Whether throwing \a e is caught by a `catch (const T &)` clause.
template<typename T>
bool caughtAs(const Error &e)
{
    try {
        e.raise();
    } catch (const T &) {
        return true;
    } catch (...) {
        return false;
    }
    return false;
}

//! For each kind, the catch clause of its class.
const QMap<Kind, std::function<bool(const Error &)>> &catchers()
{
    static const QMap<Kind, std::function<bool(const Error &)>> map {
        {Kind::Reqivo, caughtAs<ReqivoError>},
        {Kind::Request, caughtAs<RequestError>},
        {Kind::Network, caughtAs<NetworkError>},
        {Kind::Tls, caughtAs<TlsError>},
        {Kind::Timeout, caughtAs<TimeoutError>},
        {Kind::ConnectTimeout, caughtAs<ConnectTimeout>},
        {Kind::ReadTimeout, caughtAs<ReadTimeout>},
        {Kind::WriteTimeout, caughtAs<WriteTimeout>},
        {Kind::PoolTimeout, caughtAs<PoolTimeout>},
        {Kind::Protocol, caughtAs<ProtocolError>},
        {Kind::InvalidResponse, caughtAs<InvalidResponseError>},
        {Kind::RedirectLoop, caughtAs<RedirectLoopError>},
        {Kind::TooManyRedirects, caughtAs<TooManyRedirects>},
        {Kind::Status, caughtAs<StatusError>},
        {Kind::WebSocket, caughtAs<WebSocketError>},
    };
    return map;
}

QByteArray kindLabel(Kind k)
{
    return QMetaEnum::fromType<Kind>().valueToKey(int(k));
}
} // namespace

class TestErrors : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void classKinds_data();
    void classKinds();
    void isAMatchesCatchClauses_data();
    void isAMatchesCatchClauses();
    void raiseThrowsTheMostSpecificClass_data();
    void raiseThrowsTheMostSpecificClass();
    void noError();
    void fromException_data();
    void fromException();
    void exceptionPtrRoundTrip();
    void credentialsAreStripped_data();
    void credentialsAreStripped();
    void toStringAndWhat();
    void copies();
    void metaType();
    void gadgetProperties();
};

void TestErrors::classKinds_data()
{
    QTest::addColumn<std::exception_ptr>("thrown");
    QTest::addColumn<Kind>("kind");
    QTest::addColumn<QString>("typeName");

    const auto row = [](const char *name, auto exception, Kind kind) {
        QTest::newRow(name) << std::make_exception_ptr(exception) << kind
                            << QString::fromLatin1(name);
    };
    const QString m = QStringLiteral("message");
    row("ReqivoError", ReqivoError(m), Kind::Reqivo);
    row("RequestError", RequestError(m), Kind::Request);
    row("NetworkError", NetworkError(m), Kind::Network);
    row("TlsError", TlsError(m), Kind::Tls);
    row("TimeoutError", TimeoutError(m), Kind::Timeout);
    row("ConnectTimeout", ConnectTimeout(m), Kind::ConnectTimeout);
    row("ReadTimeout", ReadTimeout(m), Kind::ReadTimeout);
    row("WriteTimeout", WriteTimeout(m), Kind::WriteTimeout);
    row("PoolTimeout", PoolTimeout(m), Kind::PoolTimeout);
    row("ProtocolError", ProtocolError(m), Kind::Protocol);
    row("InvalidResponseError", InvalidResponseError(m), Kind::InvalidResponse);
    row("RedirectLoopError", RedirectLoopError(m), Kind::RedirectLoop);
    row("TooManyRedirects", TooManyRedirects(m), Kind::TooManyRedirects);
    row("StatusError", StatusError(m), Kind::Status);
    row("WebSocketError", WebSocketError(m), Kind::WebSocket);
}

void TestErrors::classKinds()
{
    QFETCH(std::exception_ptr, thrown);
    QFETCH(Kind, kind);
    QFETCH(QString, typeName);
    try {
        std::rethrow_exception(thrown);
    } catch (const ReqivoError &e) {
        QCOMPARE(e.kind(), kind);
        QCOMPARE(e.error().kind(), kind);
        QCOMPARE(e.error().typeName(), typeName);
        QCOMPARE(Error::kindName(kind), typeName);
        QCOMPARE(e.message(), QStringLiteral("message"));
        return;
    }
    QFAIL("not a ReqivoError");
}

void TestErrors::isAMatchesCatchClauses_data()
{
    QTest::addColumn<Kind>("kind");
    QTest::addColumn<Kind>("ancestor");
    for (const Kind k : allKinds) {
        for (const Kind a : allKinds) {
            const QByteArray name = kindLabel(k) + " as " + kindLabel(a);
            QTest::newRow(name.constData()) << k << a;
        }
    }
}

void TestErrors::isAMatchesCatchClauses()
{
    QFETCH(Kind, kind);
    QFETCH(Kind, ancestor);
    const Error e(kind, QStringLiteral("m"));
    const bool caught = catchers().value(ancestor)(e);
    QCOMPARE(e.isA(ancestor), caught);
    // Everything is a ReqivoError, and each kind is itself.
    QVERIFY(e.isA(Kind::Reqivo));
    QVERIFY(e.isA(kind));
    QVERIFY(!e.isA(Kind::NoError));
    // parentKind() walks the same tree.
    if (kind != ancestor && caught) {
        Kind k = kind;
        while (k != Kind::NoError && k != ancestor)
            k = Error::parentKind(k);
        QCOMPARE(k, ancestor);
    }
}

void TestErrors::raiseThrowsTheMostSpecificClass_data()
{
    QTest::addColumn<Kind>("kind");
    QTest::addColumn<QByteArray>("className");
    QTest::newRow("Reqivo") << Kind::Reqivo << QByteArray(typeid(ReqivoError).name());
    QTest::newRow("Request") << Kind::Request << QByteArray(typeid(RequestError).name());
    QTest::newRow("Network") << Kind::Network << QByteArray(typeid(NetworkError).name());
    QTest::newRow("Tls") << Kind::Tls << QByteArray(typeid(TlsError).name());
    QTest::newRow("Timeout") << Kind::Timeout << QByteArray(typeid(TimeoutError).name());
    QTest::newRow("ConnectTimeout")
        << Kind::ConnectTimeout << QByteArray(typeid(ConnectTimeout).name());
    QTest::newRow("ReadTimeout") << Kind::ReadTimeout << QByteArray(typeid(ReadTimeout).name());
    QTest::newRow("WriteTimeout") << Kind::WriteTimeout << QByteArray(typeid(WriteTimeout).name());
    QTest::newRow("PoolTimeout") << Kind::PoolTimeout << QByteArray(typeid(PoolTimeout).name());
    QTest::newRow("Protocol") << Kind::Protocol << QByteArray(typeid(ProtocolError).name());
    QTest::newRow("InvalidResponse")
        << Kind::InvalidResponse << QByteArray(typeid(InvalidResponseError).name());
    QTest::newRow("RedirectLoop") << Kind::RedirectLoop
                                  << QByteArray(typeid(RedirectLoopError).name());
    QTest::newRow("TooManyRedirects")
        << Kind::TooManyRedirects << QByteArray(typeid(TooManyRedirects).name());
    QTest::newRow("Status") << Kind::Status << QByteArray(typeid(StatusError).name());
    QTest::newRow("WebSocket") << Kind::WebSocket << QByteArray(typeid(WebSocketError).name());
}

void TestErrors::raiseThrowsTheMostSpecificClass()
{
    QFETCH(Kind, kind);
    QFETCH(QByteArray, className);
    const Error e(kind, QStringLiteral("went wrong"), QUrl(QStringLiteral("http://h/p")),
        QStringLiteral("detail"), 7);
    try {
        e.raise();
    } catch (const ReqivoError &thrown) {
        QCOMPARE(QByteArray(typeid(thrown).name()), className);
        // The exception carries the whole value, not just its kind.
        QCOMPARE(thrown.error(), e);
        return;
    }
    QFAIL("raise() did not throw a ReqivoError");
}

void TestErrors::noError()
{
    const Error e;
    QVERIFY(e.isNull());
    QVERIFY(!e);
    QCOMPARE(e.kind(), Kind::NoError);
    QVERIFY(e.typeName().isEmpty());
    QVERIFY(e.isA(Kind::NoError));
    QVERIFY(!e.isA(Kind::Reqivo));
    QVERIFY(!e.toString().isEmpty());
    QCOMPARE(Error::fromException(nullptr), e);

    const Error some(Kind::Tls, QStringLiteral("bad certificate"));
    QVERIFY(!some.isNull());
    QVERIFY(bool(some));
    QVERIFY(!some.isA(Kind::NoError));
}

void TestErrors::fromException_data()
{
    QTest::addColumn<std::exception_ptr>("thrown");
    QTest::addColumn<Kind>("kind");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("Reqivo class keeps its kind")
        << std::make_exception_ptr(ReadTimeout(QStringLiteral("no data for 5000 ms")))
        << Kind::ReadTimeout << QStringLiteral("no data for 5000 ms");
    // The value lives in the base class, so even a copy sliced to a base keeps the kind.
    QTest::newRow("sliced to a base class, still the derived kind")
        << std::make_exception_ptr(
               static_cast<const TimeoutError &>(PoolTimeout(QStringLiteral("pool full"))))
        << Kind::PoolTimeout << QStringLiteral("pool full");
    QTest::newRow("standard exception becomes ReqivoError") << std::make_exception_ptr(
        std::runtime_error("disk on fire")) << Kind::Reqivo << QStringLiteral("disk on fire");
    QTest::newRow("non-standard exception becomes ReqivoError")
        << std::make_exception_ptr(42) << Kind::Reqivo << QString();
}

void TestErrors::fromException()
{
    QFETCH(std::exception_ptr, thrown);
    QFETCH(Kind, kind);
    QFETCH(QString, mentions);
    const Error e = Error::fromException(thrown);
    QCOMPARE(e.kind(), kind);
    QVERIFY(!e.message().isEmpty());
    QVERIFY2(e.toString().contains(mentions), qPrintable(e.toString()));
}

void TestErrors::exceptionPtrRoundTrip()
{
    for (const Kind k : allKinds) {
        const Error e(
            k, QStringLiteral("m"), QUrl(QStringLiteral("https://h/")), QStringLiteral("d"), 3);
        const std::exception_ptr p = e.toExceptionPtr();
        QVERIFY(p);
        QCOMPARE(Error::fromException(p), e);
    }
}

void TestErrors::credentialsAreStripped_data()
{
    QTest::addColumn<QUrl>("url");
    QTest::addColumn<QUrl>("stored");
    QTest::newRow("user and password")
        << QUrl(QStringLiteral("https://alice:s3cr3t@example.com/p?q=1"))
        << QUrl(QStringLiteral("https://example.com/p?q=1"));
    QTest::newRow("user only") << QUrl(QStringLiteral("ftp://alice@example.com/"))
                               << QUrl(QStringLiteral("ftp://example.com/"));
    QTest::newRow("password only") << QUrl(QStringLiteral("http://:s3cr3t@example.com:8080/"))
                                   << QUrl(QStringLiteral("http://example.com:8080/"));
    QTest::newRow("no credentials") << QUrl(QStringLiteral("ws://example.com/socket"))
                                    << QUrl(QStringLiteral("ws://example.com/socket"));
}

void TestErrors::credentialsAreStripped()
{
    QFETCH(QUrl, url);
    QFETCH(QUrl, stored);
    const Error e(Kind::Network, QStringLiteral("connection refused"), url);
    QCOMPARE(e.url(), stored);
    QVERIFY(!e.toString().contains(QLatin1String("s3cr3t")));
    QVERIFY(!e.toString().contains(QLatin1String("alice")));

    const NetworkError thrown(QStringLiteral("connection refused"), url);
    QCOMPARE(thrown.url(), stored);
    QVERIFY(!QByteArray(thrown.what()).contains("s3cr3t"));
    QVERIFY(!QByteArray(thrown.what()).contains("alice"));
    QString debugText;
    QDebug(&debugText) << e;
    QVERIFY(!debugText.contains(QLatin1String("s3cr3t")));
}

void TestErrors::toStringAndWhat()
{
    const Error e(Kind::ReadTimeout, QStringLiteral("no data for 5000 ms"),
        QUrl(QStringLiteral("http://host/path")), QStringLiteral("socket idle"));
    const QString s = e.toString();
    QVERIFY2(s.startsWith(QLatin1String("ReadTimeout: no data for 5000 ms")), qPrintable(s));
    QVERIFY2(s.contains(QLatin1String("http://host/path")), qPrintable(s));
    QVERIFY2(s.contains(QLatin1String("socket idle")), qPrintable(s));
    const ReadTimeout thrown(e);
    QCOMPARE(QString::fromUtf8(thrown.what()), s);
    QString debugText;
    QDebug(&debugText) << e;
    QVERIFY2(debugText.contains(QLatin1String("ReadTimeout")), qPrintable(debugText));

    const Error status(Kind::Status, QStringLiteral("404 Not Found"), {}, {}, 404);
    QCOMPARE(status.code(), 404);
}

void TestErrors::copies()
{
    static_assert(std::is_copy_constructible_v<Error> && std::is_copy_assignable_v<Error>);
    static_assert(std::is_copy_constructible_v<ReadTimeout>);
    static_assert(std::is_base_of_v<std::exception, ReqivoError>);

    const Error e(Kind::Tls, QStringLiteral("expired"), QUrl(QStringLiteral("https://h/")),
        QStringLiteral("notAfter 2020"), 0);
    Error copy = e;
    QCOMPARE(copy, e);
    copy = Error(Kind::Network, QStringLiteral("other"));
    QVERIFY(copy != e);
    QCOMPARE(e.message(), QStringLiteral("expired"));

    const TlsError thrown(e);
    const TlsError thrownCopy = thrown; // exceptions are copied when rethrown
    QCOMPARE(thrownCopy.error(), e);
    QCOMPARE(QByteArray(thrownCopy.what()), QByteArray(thrown.what()));
}

void TestErrors::metaType()
{
    const Error e(Kind::WebSocket, QStringLiteral("closed"), QUrl(QStringLiteral("wss://h/s")),
        QStringLiteral("1006"), 1006);
    const QVariant v = QVariant::fromValue(e);
    QCOMPARE(v.metaType(), QMetaType::fromType<Error>());
    QCOMPARE(v.value<Error>(), e);
    QVERIFY(QMetaType::fromType<Error>().isValid());
}

// QML reads the value through its Q_GADGET properties.
void TestErrors::gadgetProperties()
{
    const Error e(Kind::ConnectTimeout, QStringLiteral("no answer"),
        QUrl(QStringLiteral("http://h/")), QStringLiteral("d"), 5);
    const QMetaObject &mo = Error::staticMetaObject;
    const auto read = [&](const char *name) {
        const int index = mo.indexOfProperty(name);
        return index < 0 ? QVariant() : mo.property(index).readOnGadget(&e);
    };
    QCOMPARE(read("type").toString(), QStringLiteral("ConnectTimeout"));
    QCOMPARE(read("message").toString(), QStringLiteral("no answer"));
    QCOMPARE(read("url").toUrl(), QUrl(QStringLiteral("http://h/")));
    QCOMPARE(read("detail").toString(), QStringLiteral("d"));
    QCOMPARE(read("code").toInt(), 5);
    QCOMPARE(read("kind").value<Kind>(), Kind::ConnectTimeout);
    QCOMPARE(QMetaEnum::fromType<Kind>().valueToKey(int(Kind::ConnectTimeout)), "ConnectTimeout");
}

QTEST_GUILESS_MAIN(TestErrors)
#include "tst_errors.moc"
