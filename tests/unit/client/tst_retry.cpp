// The retry policy's pieces as values: Retry-After (delta-seconds and RFC 9110's three HTTP-date
// formats), the backoff with and without jitter, the per-host retry budget, the default
// classifier, and the backoff sleep that a cancellation ends at once.
#include "client/retry_p.h"

#include "support/qcorotest.h"

#include <QTest>

using namespace std::chrono_literals;
using namespace Qt::StringLiterals;
using Reqivo::Error;
using Reqivo::RetryAttempt;
using Reqivo::RetryBudget;
using Reqivo::RetryDecision;
using Reqivo::RetryPolicy;
using namespace Reqivo::Client;
using std::chrono::milliseconds;

namespace {

QDateTime utc(int y, int mo, int d, int h, int mi, int s)
{
    return QDateTime(QDate(y, mo, d), QTime(h, mi, s), Qt::UTC);
}

RetryPolicy noJitter(milliseconds base, double factor, milliseconds cap)
{
    RetryPolicy p;
    p.baseDelay = base;
    p.factor = factor;
    p.maxDelay = cap;
    p.jitter = false;
    return p;
}

RetryAttempt failed(Error::Kind kind, Error::NetworkFailure failure = Error::NetworkFailure::Unknown,
                    bool started = false)
{
    RetryAttempt a;
    a.method = "GET";
    a.error = Error(kind, QStringLiteral("failed"), {}, {}, int(failure));
    a.responseStarted = started;
    return a;
}

RetryAttempt answered(int status)
{
    RetryAttempt a;
    a.method = "GET";
    a.status = status;
    return a;
}

} // namespace

Q_DECLARE_METATYPE(RetryAttempt)

class TestRetry : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void httpDate_data()
    {
        QTest::addColumn<QByteArray>("value");
        QTest::addColumn<QDateTime>("expected");
        const QDateTime rfc = utc(1994, 11, 6, 8, 49, 37);
        QTest::newRow("IMF-fixdate") << QByteArray("Sun, 06 Nov 1994 08:49:37 GMT") << rfc;
        QTest::newRow("RFC 850") << QByteArray("Sunday, 06-Nov-94 08:49:37 GMT") << rfc;
        QTest::newRow("asctime") << QByteArray("Sun Nov  6 08:49:37 1994") << rfc;
        QTest::newRow("asctime, two-digit day")
                << QByteArray("Thu Dec 31 23:59:59 2026") << utc(2026, 12, 31, 23, 59, 59);
        QTest::newRow("surrounding blanks")
                << QByteArray("  Sun, 06 Nov 1994 08:49:37 GMT ") << rfc;
        // RFC 9110 §5.6.7: not more than 50 years ahead of now (2026): 76 is 2076, 77 is 1977.
        QTest::newRow("RFC 850, 50 years ahead")
                << QByteArray("Friday, 01-Jan-76 00:00:00 GMT") << utc(2076, 1, 1, 0, 0, 0);
        QTest::newRow("RFC 850, past century")
                << QByteArray("Saturday, 01-Jan-77 00:00:00 GMT") << utc(1977, 1, 1, 0, 0, 0);
        const QDateTime none;
        QTest::newRow("empty") << QByteArray() << none;
        QTest::newRow("not GMT") << QByteArray("Sun, 06 Nov 1994 08:49:37 PST") << none;
        QTest::newRow("bad month") << QByteArray("Sun, 06 Foo 1994 08:49:37 GMT") << none;
        QTest::newRow("bad day name") << QByteArray("Sux, 06 Nov 1994 08:49:37 GMT") << none;
        QTest::newRow("long day name in IMF")
                << QByteArray("Sunday, 06 Nov 1994 08:49:37 GMT") << none;
        QTest::newRow("31 February") << QByteArray("Sun, 31 Feb 1994 08:49:37 GMT") << none;
        QTest::newRow("hour 24") << QByteArray("Sun, 06 Nov 1994 24:49:37 GMT") << none;
        QTest::newRow("short time") << QByteArray("Sun, 06 Nov 1994 8:49:37 GMT") << none;
        QTest::newRow("signed day") << QByteArray("Sun, +6 Nov 1994 08:49:37 GMT") << none;
        QTest::newRow("asctime, extra word") << QByteArray("Sun Nov 6 08:49:37 1994 x") << none;
        QTest::newRow("RFC 850, bad separator")
                << QByteArray("Sunday, 06/Nov/94 08:49:37 GMT") << none;
    }
    void httpDate()
    {
        QFETCH(QByteArray, value);
        QFETCH(QDateTime, expected);
        const std::optional<QDateTime> parsed = parseHttpDate(value, utc(2026, 12, 3, 12, 0, 0));
        QCOMPARE(parsed.has_value(), expected.isValid());
        if (parsed)
            QCOMPARE(*parsed, expected);
    }

    void retryAfter_data()
    {
        QTest::addColumn<QByteArray>("value");
        QTest::addColumn<qint64>("expectedMs"); // -1: not a Retry-After value
        QTest::newRow("delta-seconds") << QByteArray("120") << qint64(120000);
        QTest::newRow("zero") << QByteArray("0") << qint64(0);
        QTest::newRow("blanks") << QByteArray(" 3 ") << qint64(3000);
        QTest::newRow("huge, clamped") << QByteArray("99999999999999999999") << qint64(999999999000);
        QTest::newRow("IMF date, 90 s ahead")
                << QByteArray("Thu, 03 Dec 2026 12:01:30 GMT") << qint64(90000);
        QTest::newRow("RFC 850 date, 10 s ahead")
                << QByteArray("Thursday, 03-Dec-26 12:00:10 GMT") << qint64(10000);
        QTest::newRow("asctime date, 1 h ahead")
                << QByteArray("Thu Dec  3 13:00:00 2026") << qint64(3600000);
        QTest::newRow("date in the past") << QByteArray("Thu, 03 Dec 2026 11:00:00 GMT")
                                          << qint64(0);
        QTest::newRow("negative") << QByteArray("-5") << qint64(-1);
        QTest::newRow("fraction") << QByteArray("1.5") << qint64(-1);
        QTest::newRow("empty") << QByteArray("") << qint64(-1);
        QTest::newRow("garbage") << QByteArray("soon") << qint64(-1);
    }
    void retryAfter()
    {
        QFETCH(QByteArray, value);
        QFETCH(qint64, expectedMs);
        const std::optional<milliseconds> parsed
                = parseRetryAfter(value, utc(2026, 12, 3, 12, 0, 0));
        QCOMPARE(parsed.has_value(), expectedMs >= 0);
        if (parsed)
            QCOMPARE(parsed->count(), expectedMs);
    }

    // Without jitter: base × factor^(n-1), capped; with it: that bound times the random draw.
    void backoff()
    {
        const RetryPolicy p = noJitter(500ms, 2.0, 3s);
        QCOMPARE(backoffDelay(p, 1, 0.3), 500ms);
        QCOMPARE(backoffDelay(p, 2, 0.3), 1000ms);
        QCOMPARE(backoffDelay(p, 3, 0.3), 2000ms);
        QCOMPARE(backoffDelay(p, 4, 0.3), 3000ms); // capped
        QCOMPARE(backoffDelay(p, 4000, 0.3), 3000ms); // pow overflows to infinity: still the cap

        RetryPolicy jittered = p;
        jittered.jitter = true;
        QCOMPARE(backoffDelay(jittered, 3, 0.0), 0ms);
        QCOMPARE(backoffDelay(jittered, 3, 0.5), 1000ms);
        QCOMPARE(backoffDelay(jittered, 3, 1.0), 2000ms);
        for (int i = 0; i < 1000; ++i) {
            const milliseconds d = backoffDelay(jittered, 2, double(i) / 1000.0);
            QVERIFY(d >= 0ms && d <= 1000ms);
        }

        // Defaults: 0.5 s base, factor 2, 30 s cap, full jitter (curl's --retry as the issue
        // sets it for the CLI).
        const RetryPolicy defaults;
        QCOMPARE(defaults.baseDelay, 500ms);
        QCOMPARE(defaults.factor, 2.0);
        QCOMPARE(defaults.maxDelay, 30000ms);
        QVERIFY(defaults.jitter);
        QCOMPARE(defaults.maxRetryAfter, 60000ms);
        QCOMPARE(defaults.maxAttempts, 1);
        QCOMPARE(RetryPolicy::attempts(4).maxAttempts, 4);

        // Nonsense settings stay within a timer's range, never negative.
        RetryPolicy odd = noJitter(-5ms, std::nan(""), milliseconds(std::numeric_limits<qint64>::max()));
        QCOMPARE(backoffDelay(odd, 3, 0.5), 0ms);
        odd.baseDelay = 10ms;
        QCOMPARE(backoffDelay(odd, 3, 0.5), 10ms); // factor NaN: taken as 1
        odd.factor = 1e308;
        QCOMPARE(backoffDelay(odd, 3, 0.5), milliseconds(INT_MAX));
    }

    // Finagle's budget: retries stay below minPerSecond × window + ratio × requests, over the
    // last window; hosts count apart.
    void budget()
    {
        using Clock = RetryBudgets::Clock;
        RetryBudget b;
        b.ratio = 0.5;
        b.minPerSecond = 0;
        b.window = 10s;
        RetryBudgets budgets;
        const Clock::time_point t0 = Clock::time_point(1000h);
        QVERIFY(!budgets.withdraw(u"a:80"_s, b, t0)); // nothing deposited, no floor
        budgets.deposit(u"a:80"_s, b, t0);
        QVERIFY(budgets.withdraw(u"a:80"_s, b, t0)); // 0 < 0.5
        QVERIFY(!budgets.withdraw(u"a:80"_s, b, t0)); // 1 >= 0.5
        QVERIFY(!budgets.withdraw(u"b:80"_s, b, t0)); // another host's budget
        budgets.deposit(u"a:80"_s, b, t0 + 1s);
        budgets.deposit(u"a:80"_s, b, t0 + 1s);
        QVERIFY(budgets.withdraw(u"a:80"_s, b, t0 + 2s)); // 1 < 1.5
        QVERIFY(!budgets.withdraw(u"a:80"_s, b, t0 + 2s));
        // A window later every count has expired.
        QVERIFY(!budgets.withdraw(u"a:80"_s, b, t0 + 13s));
        budgets.deposit(u"a:80"_s, b, t0 + 13s);
        QVERIFY(budgets.withdraw(u"a:80"_s, b, t0 + 13s));

        // The floor: minPerSecond × window seconds, with no request at all.
        RetryBudget floor;
        floor.ratio = 0;
        floor.minPerSecond = 1;
        floor.window = 2s;
        RetryBudgets f;
        QVERIFY(f.withdraw(u"h:1"_s, floor, t0));
        QVERIFY(f.withdraw(u"h:1"_s, floor, t0 + 100ms));
        QVERIFY(!f.withdraw(u"h:1"_s, floor, t0 + 200ms));
        QVERIFY(f.withdraw(u"h:1"_s, floor, t0 + 3s)); // the window moved on

        // Memory is bounded: hosts whose window is empty are forgotten.
        RetryBudgets many;
        for (int i = 0; i < 1000; ++i)
            many.deposit(QString::number(i), b, t0 + std::chrono::seconds(20 * i));
        QVERIFY(many.size() <= RetryBudgets::maxHosts);
    }

    // The default classifier: the statuses, and errors before any response byte that a new
    // attempt may fix; never an unknown host, TLS, a response that had started, or the rest.
    void defaultDecision_data()
    {
        using K = Error::Kind;
        using F = Error::NetworkFailure;
        QTest::addColumn<RetryAttempt>("attempt");
        QTest::addColumn<bool>("retry");
        for (int status : {408, 429, 502, 503, 504})
            QTest::addRow("status %d", status) << answered(status) << true;
        for (int status : {200, 301, 400, 401, 404, 500, 501, 505})
            QTest::addRow("status %d", status) << answered(status) << false;
        QTest::newRow("refused") << failed(K::Network, F::ConnectionRefused) << true;
        QTest::newRow("reset") << failed(K::Network, F::ConnectionReset) << true;
        QTest::newRow("closed") << failed(K::Network, F::ConnectionClosed) << true;
        QTest::newRow("unclassified network") << failed(K::Network) << true;
        QTest::newRow("connect timeout") << failed(K::ConnectTimeout) << true;
        QTest::newRow("read timeout") << failed(K::ReadTimeout) << true;
        QTest::newRow("pool timeout") << failed(K::PoolTimeout) << true;
        QTest::newRow("unknown host") << failed(K::Network, F::HostNotFound) << false;
        QTest::newRow("TLS") << failed(K::Tls, F::TlsHandshake) << false;
        QTest::newRow("proxy 407") << failed(K::Network, F::ProxyAuthenticationRequired) << false;
        QTest::newRow("closed after the response started")
                << failed(K::Network, F::ConnectionClosed, true) << false;
        QTest::newRow("read timeout after the head")
                << failed(K::ReadTimeout, F::Unknown, true) << false;
        QTest::newRow("write timeout") << failed(K::WriteTimeout) << false;
        QTest::newRow("total deadline") << failed(K::Timeout) << false;
        QTest::newRow("aborted") << failed(K::Request) << false;
        QTest::newRow("invalid response") << failed(K::InvalidResponse) << false;
    }
    void defaultDecision()
    {
        QFETCH(RetryAttempt, attempt);
        QFETCH(bool, retry);
        const RetryPolicy policy;
        QCOMPARE(policy.defaultDecision(attempt) == RetryDecision::Retry, retry);
        QCOMPARE(policy.decide(attempt) == RetryDecision::Retry, retry);
    }

    void customClassifier()
    {
        RetryPolicy policy;
        policy.classifier = [](const RetryAttempt &a) {
            return a.status == 500 ? RetryDecision::Retry : RetryDecision::Return;
        };
        QCOMPARE(policy.decide(answered(500)), RetryDecision::Retry);
        QCOMPARE(policy.decide(answered(503)), RetryDecision::Return);
    }

    void idempotentMethods()
    {
        for (const char *m : {"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
            QVERIFY2(isIdempotentMethod(m), m);
        for (const char *m : {"POST", "PATCH", "CONNECT", "get", ""})
            QVERIFY2(!isIdempotentMethod(m), m);
    }

    // A 60 s backoff that a cancellation ends at once; without one, the timer ends it.
    void sleepEndsOnCancel()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            const auto cancel = std::make_shared<CancelToken>();
            QTimer::singleShot(0, [cancel] { cancel->cancel(); });
            Error error;
            try {
                co_await cancellableSleep(60s, cancel, QUrl(u"http://h/"_s));
            } catch (...) {
                error = Error::fromException(std::current_exception());
            }
            CO_COMPARE(error.kind(), Error::Kind::Request);
            CO_COMPARE(error.detail(), u"aborted"_s);

            // Cancelled before the sleep starts: it does not sleep at all.
            error = Error();
            try {
                co_await cancellableSleep(60s, cancel, QUrl(u"http://h/"_s));
            } catch (...) {
                error = Error::fromException(std::current_exception());
            }
            CO_COMPARE(error.kind(), Error::Kind::Request);

            // No cancellation: the timer ends it, and the token's handler is gone after.
            const auto other = std::make_shared<CancelToken>();
            co_await cancellableSleep(1ms, other, QUrl(u"http://h/"_s));
            other->cancel(); // no handler of the finished sleep runs
            CO_VERIFY(other->isAborted());
        }());
    }
};

QTEST_GUILESS_MAIN(TestRetry)
#include "tst_retry.moc"
