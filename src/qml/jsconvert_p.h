// Conversions between JavaScript values and the client layer's value types, for the QML module.
//
// The one rule: a JS value never reaches the client layer. Everything a QML caller passes
// (headers, query, timeouts, bodies) becomes a Headers, QUrlQuery, Timeout or Body here, and
// everything handed back (headers, errors) becomes a plain JS value here. Functions that can
// refuse their input return a message for a TypeError (empty when the input was fine): bad
// arguments are the caller's bug and are thrown at once, never sent to an error callback.
#pragma once

#include <Reqivo/body.h>
#include <Reqivo/errors.h>
#include <Reqivo/headers.h>
#include <Reqivo/requestoptions.h>
#include <Reqivo/retrypolicy.h>
#include <Reqivo/timeout.h>
#include <Reqivo/timings.h>

#include <QJSValue>
#include <QLoggingCategory>
#include <QVariantMap>

class QJSEngine;

namespace Reqivo::Qml {

Q_DECLARE_LOGGING_CATEGORY(lcQml)

//! A QML `timeout` in milliseconds applied to the connect, read and write phases of \a base
//! (total and pool-acquire keep their values). Zero or negative: no limit for those phases.
Timeout withPhaseTimeout(Timeout base, int milliseconds);

//! {name: value} to Headers. A value may be an array, which adds one field per element.
//! Values are sent as UTF-8.
Headers headersFromMap(const QVariantMap &map);

//! Response headers as a plain JS object: names lower-cased, repeated fields joined with ", ",
//! except Set-Cookie, which is always a JS array of strings. Values are decoded as UTF-8.
QJSValue headersToJs(QJSEngine *engine, const Headers &headers);

//! The request body for a JS value: a string is text/plain, an ArrayBuffer or typed array is
//! application/octet-stream bytes, undefined and null are no body, anything else goes through
//! the engine's own JSON.stringify and is sent as application/json.
QString bodyFromJs(QJSEngine *engine, const QJSValue &value, Body *body);

//! A retry setting from QML onto \a policy (which holds the values of keys not given):
//! {attempts, baseDelay, factor, maxDelay, jitter, retryAfterMax, maxRetryTime, statuses,
//! retryNonIdempotent, budget}, times in ms (maxRetryTime 0: no limit), budget a boolean. A
//! number is {attempts: n}. Returns the problem, empty when the value was fine.
QString retryFromVariant(const QVariant &value, RetryPolicy *policy);

//! {dnsMs, connectMs, tlsMs, ttfbMs, totalMs, queueMs, proxyTunnelMs, requestSentMs,
//! reused}: cumulative milliseconds (fractions kept) from the start of the final attempt.
QJSValue timingsToJs(QJSEngine *engine, const Timings &timings);

//! Option keys a call accepts besides {headers, query, timeout, followRedirects, retry}.
enum class ExtraOption { None = 0, Body = 1, Method = 2 };
Q_DECLARE_FLAGS(ExtraOptions, ExtraOption)
Q_DECLARE_OPERATORS_FOR_FLAGS(ExtraOptions)

//! Applies {headers, query, timeout, followRedirects, retry} (and {body}, {method} when
//! \a extra has them) to \a opts and \a method. \a baseTimeout is the client's timeout, which
//! an options.timeout overrides phase-wise; \a baseRetry the client's retry policy, whose
//! values an options.retry keeps for the keys it does not give.
QString optionsFromJs(QJSEngine *engine, const QJSValue &options, const Timeout &baseTimeout,
    ExtraOptions extra, RequestOptions *opts, QString *method = nullptr,
    const RetryPolicy &baseRetry = RetryPolicy());

//! A JS Error object (so `instanceof Error`, `toString()` and stack traces behave) whose name
//! is the error type, with `type`, `message`, `url`, `code`, `detail` and `attempts`
//! properties.
QJSValue errorToJs(QJSEngine *engine, const Error &error);

} // namespace Reqivo::Qml
