// The retry loop around one hop (RetryPolicy, retrypolicy.h): each attempt is one sendHop()
// (which keeps its own stale-connection and refused-stream resends inside the attempt); after
// it, the classifier, the safety rules, Retry-After, maxRetryTime and the host's budget decide
// whether another attempt follows, after a backoff that the total deadline and cancellation
// end. See docs/resilience.md.
#include "redirectpolicy.h"
#include "retry_p.h"

#include "asyncsession_p.h"
#include "calltrace_p.h"

#include <QRandomGenerator>
#include <QTimer>

#include <QCoro/QCoroTimer>

#include <algorithm>
#include <climits>
#include <cmath>

namespace Reqivo {

using namespace std::chrono;
using Client::Clock;

namespace Client {

namespace {

constexpr milliseconds maxTimerDelay{INT_MAX};

bool allDigits(QByteArrayView v)
{
    return !v.isEmpty() && std::all_of(v.begin(), v.end(), [](char c) {
        return c >= '0' && c <= '9';
    });
}

int number(QByteArrayView v)
{
    int n = 0;
    for (const char c : v)
        n = n * 10 + (c - '0');
    return n;
}

int monthOf(QByteArrayView name)
{
    static constexpr const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int i = 0; i < 12; ++i) {
        if (name == QByteArrayView(months[i]))
            return i + 1;
    }
    return 0;
}

bool isDayName(QByteArrayView name, bool longForm)
{
    static constexpr const char *shortNames[] = {"Mon", "Tue", "Wed", "Thu",
                                                 "Fri", "Sat", "Sun"};
    static constexpr const char *longNames[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                "Friday", "Saturday", "Sunday"};
    for (int i = 0; i < 7; ++i) {
        if (name == QByteArrayView(longForm ? longNames[i] : shortNames[i]))
            return true;
    }
    return false;
}

// "HH:MM:SS", two digits each.
std::optional<QTime> timeOf(QByteArrayView v)
{
    if (v.size() != 8 || v[2] != ':' || v[5] != ':')
        return std::nullopt;
    const QByteArrayView h = v.sliced(0, 2), m = v.sliced(3, 2), s = v.sliced(6, 2);
    if (!allDigits(h) || !allDigits(m) || !allDigits(s))
        return std::nullopt;
    const QTime t(number(h), number(m), number(s));
    if (!t.isValid())
        return std::nullopt;
    return t;
}

std::optional<QDateTime> dateTime(int year, int month, QByteArrayView day, QByteArrayView time)
{
    if (!allDigits(day) || day.size() > 2)
        return std::nullopt;
    const QDate date(year, month, number(day));
    const std::optional<QTime> t = timeOf(time);
    if (!date.isValid() || !t)
        return std::nullopt;
    return QDateTime(date, *t, Qt::UTC);
}

QList<QByteArrayView> words(QByteArrayView v)
{
    QList<QByteArrayView> out;
    qsizetype i = 0;
    while (i < v.size()) {
        while (i < v.size() && v[i] == ' ')
            ++i;
        const qsizetype start = i;
        while (i < v.size() && v[i] != ' ')
            ++i;
        if (i > start)
            out.append(v.sliced(start, i - start));
    }
    return out;
}

} // namespace

std::optional<QDateTime> parseHttpDate(QByteArrayView value, const QDateTime &now)
{
    value = value.trimmed();
    const qsizetype comma = value.indexOf(',');
    if (comma < 0) {
        // asctime: "Sun Nov  6 08:49:37 1994"
        const QList<QByteArrayView> w = words(value);
        if (w.size() != 5 || !isDayName(w[0], false) || w[4].size() != 4 || !allDigits(w[4]))
            return std::nullopt;
        const int month = monthOf(w[1]);
        if (!month)
            return std::nullopt;
        return dateTime(number(w[4]), month, w[2], w[3]);
    }
    const QByteArrayView dayName = value.first(comma);
    const QList<QByteArrayView> w = words(value.sliced(comma + 1));
    if (w.size() == 5 && isDayName(dayName, false)) {
        // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
        if (w[0].size() != 2 || w[3].size() != 8 || w[2].size() != 4 || !allDigits(w[2])
            || w[4] != "GMT")
            return std::nullopt;
        const int month = monthOf(w[1]);
        if (!month)
            return std::nullopt;
        return dateTime(number(w[2]), month, w[0], w[3]);
    }
    if (w.size() == 3 && isDayName(dayName, true)) {
        // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
        const QByteArrayView d = w[0];
        if (d.size() != 9 || d[2] != '-' || d[6] != '-' || w[2] != "GMT")
            return std::nullopt;
        const QByteArrayView yy = d.sliced(7, 2);
        const int month = monthOf(d.sliced(3, 3));
        if (!month || !allDigits(yy))
            return std::nullopt;
        // RFC 9110 §5.6.7: a two-digit year more than 50 years in the future is the most
        // recent past year with those digits.
        const int nowYear = now.toUTC().date().year();
        int year = nowYear - nowYear % 100 + number(yy);
        if (year > nowYear + 50)
            year -= 100;
        return dateTime(year, month, d.first(2), w[1]);
    }
    return std::nullopt;
}

std::optional<milliseconds> parseRetryAfter(QByteArrayView value, const QDateTime &now)
{
    value = value.trimmed();
    if (allDigits(value)) {
        // Anything past a few days is "too long" for any sane maxRetryAfter: clamp, no overflow.
        constexpr qsizetype maxDigits = 9;
        if (value.size() > maxDigits)
            return milliseconds(seconds(999'999'999));
        return milliseconds(seconds(number(value)));
    }
    const std::optional<QDateTime> when = parseHttpDate(value, now);
    if (!when)
        return std::nullopt;
    const qint64 ms = now.msecsTo(*when);
    return milliseconds(std::max<qint64>(ms, 0));
}

milliseconds backoffDelay(const RetryPolicy &policy, int retry, double random)
{
    const double base = double(std::max<milliseconds::rep>(policy.baseDelay.count(), 0));
    const double cap = double(std::clamp(policy.maxDelay, milliseconds::zero(), maxTimerDelay)
                                      .count());
    const double factor = std::isfinite(policy.factor) && policy.factor > 0 ? policy.factor : 1;
    // pow may be +infinity; min() against the cap keeps it finite.
    double bound = std::min(cap, base * std::pow(factor, std::max(retry, 1) - 1));
    if (policy.jitter)
        bound *= std::clamp(random, 0.0, 1.0);
    return milliseconds(std::llround(bound));
}

bool isIdempotentMethod(QByteArrayView method)
{
    return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT"
            || method == "DELETE" || method == "TRACE";
}

// --- RetryBudgets ----------------------------------------------------------------------------

qint64 RetryBudgets::slotIndex(const RetryBudget &budget, Clock::time_point now)
{
    const qint64 slotMs = std::max<qint64>(budget.window.count() / slotCount, 1);
    return duration_cast<milliseconds>(now.time_since_epoch()).count() / slotMs;
}

RetryBudgets::Slot &RetryBudgets::current(Host &host, qint64 index)
{
    Slot &slot = host.slots[std::size_t(index % slotCount)];
    if (slot.index != index)
        slot = Slot{index, 0, 0};
    return slot;
}

void RetryBudgets::totals(const Host &host, qint64 index, qint64 *deposits, qint64 *withdrawals)
{
    *deposits = 0;
    *withdrawals = 0;
    for (const Slot &slot : host.slots) {
        if (slot.index > index - slotCount && slot.index <= index) {
            *deposits += slot.deposits;
            *withdrawals += slot.withdrawals;
        }
    }
}

void RetryBudgets::prune(qint64 index)
{
    for (auto it = m_hosts.begin(); it != m_hosts.end();) {
        qint64 d = 0, w = 0;
        totals(*it, index, &d, &w);
        if (d == 0 && w == 0)
            it = m_hosts.erase(it);
        else
            ++it;
    }
}

void RetryBudgets::deposit(const QString &host, const RetryBudget &budget, Clock::time_point now)
{
    const qint64 index = slotIndex(budget, now);
    if (m_hosts.size() >= maxHosts && !m_hosts.contains(host))
        prune(index);
    ++current(m_hosts[host], index).deposits;
}

bool RetryBudgets::withdraw(const QString &host, const RetryBudget &budget, Clock::time_point now)
{
    const qint64 index = slotIndex(budget, now);
    Host &h = m_hosts[host];
    qint64 deposits = 0, withdrawals = 0;
    totals(h, index, &deposits, &withdrawals);
    const double windowSeconds = double(budget.window.count()) / 1000.0;
    const double allowed = std::max(budget.minPerSecond, 0) * windowSeconds
            + std::max(budget.ratio, 0.0) * double(deposits);
    if (double(withdrawals) >= allowed)
        return false;
    ++current(h, index).withdrawals;
    return true;
}

// --- the backoff sleep -----------------------------------------------------------------------

QCoro::Task<void> cancellableSleep(milliseconds delay, std::shared_ptr<CancelToken> cancel,
                                   QUrl url)
{
    QTimer timer;
    timer.setSingleShot(true);
    timer.setTimerType(Qt::PreciseTimer);
    timer.start(std::clamp(delay, milliseconds::zero(), maxTimerDelay));
    {
        // A cancellation fires the timer at once (from the event loop, not from abort()'s
        // caller); the handler is cleared when the wait ends.
        const Transport::AbortScope scope(cancel, [&timer] { timer.start(0); });
        co_await timer;
    }
    if (cancel)
        cancel->check(url);
}

} // namespace Client

// --- the loop --------------------------------------------------------------------------------

namespace {

QUrl withoutUserInfo(QUrl url)
{
    url.setUserInfo(QString());
    return url;
}

// The error of the loop's last attempt, thrown again (same class) with its attempt count.
[[noreturn]] void rethrowWithAttempts(const ReqivoError &e, int attempts)
{
    Error error = e.error();
    error.setAttempts(attempts);
    error.raise();
}

} // namespace

QCoro::Task<Response> AsyncSessionPrivate::sendWithRetries(std::shared_ptr<SessionCore> core,
                                                           QByteArray method, QUrl url,
                                                           Headers fields, Body body,
                                                           Client::ExchangeSettings settings)
{
    const std::shared_ptr<const RetryPolicy> policy = settings.retry;
    if (!policy || policy->maxAttempts <= 1) {
        // Nothing to retry: nothing is kept for another attempt either.
        try {
            Response response = co_await sendHop(std::move(core), std::move(method),
                                                 std::move(url), std::move(fields),
                                                 std::move(body), std::move(settings), nullptr);
            co_return response;
        } catch (const ReqivoError &e) {
            rethrowWithAttempts(e, 1);
        }
    }

    const Clock::time_point start = Clock::now();
    const std::optional<Clock::time_point> retryEnd = Timeout::isNoLimit(policy->maxRetryTime)
            ? std::nullopt
            : std::optional(start + policy->maxRetryTime);
    const QString host = url.host() + QLatin1Char(':')
            + QString::number(url.port(Client::defaultPort(url.scheme())));
    if (policy->budget.enabled)
        core->retryBudgets.deposit(host, policy->budget, start);
    const bool idempotent = policy->retryNonIdempotent || Client::isIdempotentMethod(method)
            || fields.contains("idempotency-key");
    const std::shared_ptr<Client::CancelToken> cancel = settings.cancel;

    for (int attempt = 1;; ++attempt) {
        Client::ExchangeProgress progress;
        std::optional<Response> response;
        std::exception_ptr failure;
        RetryAttempt tried;
        try {
            response = co_await sendHop(core, method, url, fields, body, settings, &progress);
        } catch (const ReqivoError &e) {
            tried.error = e.error();
            failure = std::current_exception();
        }
        const auto giveUp = [&]() -> Response {
            if (failure) {
                try {
                    std::rethrow_exception(failure);
                } catch (const ReqivoError &e) {
                    rethrowWithAttempts(e, attempt);
                }
            }
            response->setAttempts(attempt);
            return std::move(*response);
        };
        // A cancelled request or a destroyed session ends here, whatever a classifier says.
        if (failure && (core->closed || !core->pool || (cancel && cancel->isAborted())))
            co_return giveUp();

        tried.method = method;
        tried.url = withoutUserInfo(url);
        tried.attempt = attempt;
        tried.status = response ? response->status() : 0;
        tried.responseStarted = progress.responseStarted;

        milliseconds delay{0};
        const char *reason = "retryable";
        if (policy->decide(tried) != RetryDecision::Retry) {
            reason = "not-retryable";
        } else if (attempt >= policy->maxAttempts) {
            reason = "max-attempts";
        } else if (!idempotent) {
            reason = "not-idempotent";
        } else if (!body.isReplayable()) {
            reason = "body-not-replayable";
        } else {
            delay = Client::backoffDelay(*policy, attempt,
                                         QRandomGenerator::global()->generateDouble());
            if (response) {
                if (const std::optional<QByteArray> value = response->headers().get("retry-after")) {
                    const std::optional<milliseconds> after = Client::parseRetryAfter(
                            *value, QDateTime::currentDateTimeUtc());
                    if (after && *after > policy->maxRetryAfter)
                        reason = "retry-after-too-long";
                    else if (after)
                        delay = *after;
                }
            }
            if (qstrcmp(reason, "retryable") == 0) {
                const Clock::time_point now = Clock::now();
                if (retryEnd && now + delay > *retryEnd)
                    reason = "max-retry-time";
                else if (policy->budget.enabled
                         && !core->retryBudgets.withdraw(host, policy->budget, now))
                    reason = "budget-exhausted";
            }
        }
        const bool retry = qstrcmp(reason, "retryable") == 0;
        if (Client::CallTrace *trace = settings.trace.get()) {
            RequestEvent e = trace->event(RequestEvent::Type::RetryDecision);
            e.attempt = attempt;
            e.retry = retry;
            e.reason = QString::fromLatin1(reason);
            e.delay = retry ? delay : milliseconds::zero();
            trace->emit(e);
        }
        if (!retry)
            co_return giveUp();

        // The retried response's body is not wanted: a little is drained so the connection
        // may be reused, the rest costs the connection (as for a redirect).
        if (response) {
            if (const std::shared_ptr<BodyStream> stream = response->bodyStream())
                co_await Client::drainRedirectBody(stream);
            response.reset();
        }
        try {
            // The backoff ends at the total deadline, if that comes first, with its error.
            milliseconds sleep = delay;
            bool untilDeadline = false;
            if (settings.deadline) {
                const auto left = ceil<milliseconds>(*settings.deadline - Clock::now());
                untilDeadline = left <= delay;
                sleep = std::clamp(left, milliseconds::zero(), delay);
            }
            core->checkOpen(url);
            co_await Client::cancellableSleep(sleep, cancel, url);
            core->checkOpen(url);
            if (untilDeadline)
                Client::throwTotalTimeout(settings, url);
        } catch (const ReqivoError &e) {
            rethrowWithAttempts(e, attempt);
        }
    }
}

} // namespace Reqivo
