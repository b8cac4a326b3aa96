// CallTrace: one request's listener events, and the time points behind Response::timings().
//
// Timings are always recorded (a few clock reads per attempt); a CallTrace exists only when a
// listener is set (the session's or the request's), so that a request without one pays a null
// check per stage. AsyncSessionPrivate::run() creates it; sendHop() and the exchanges tell it
// what happens through ExchangeSettings::trace. See docs/observability.md.
#pragma once

#include <Reqivo/eventlistener.h>
#include <Reqivo/timings.h>

#include "exchange_p.h"

#include <QByteArray>
#include <QUrl>

#include <chrono>
#include <memory>

namespace Reqivo::Client {

class CallTrace
{
public:
    using Clock = std::chrono::steady_clock;
    using Type = RequestEvent::Type;

    //! Null when both listeners are.
    static std::shared_ptr<CallTrace> create(std::shared_ptr<EventListener> session,
        std::shared_ptr<EventListener> request, const QByteArray &method, const QUrl &url);

    //! The event of \a type for the current hop and attempt, at \a time: the trace's own
    //! record, whose details the caller may set before emit(). Not copied per event: method
    //! and URL are set once per hop, the details reset after each emit().
    RequestEvent &event(Type type, Clock::time_point time = Clock::now());
    //! Tells both listeners; resets the details when \a event is the trace's own record.
    void emit(const RequestEvent &event);
    void emit(Type type, Clock::time_point time = Clock::now()) { emit(event(type, time)); }

    //! A new hop (after a redirect): attempts count from 1 again.
    void startHop(const QByteArray &method, const QUrl &url);
    //! A new attempt of the current hop.
    void startAttempt() { ++m_attempt; }
    int attempt() const { return m_attempt; }

private:
    std::shared_ptr<EventListener> m_session;
    std::shared_ptr<EventListener> m_request;
    RequestEvent m_event; //!< callId, method and URL set; see event()
    int m_attempt = 0;
};

//! The start of an attempt: its timings start from zero (and the trace, if any, hears of its
//! wait for the pool).
void startAttempt(ExchangeSettings &settings);

//! The attempt holds \a connection (\a reused, or new: its connect times are in the
//! transport). Fills the connection phases of settings.phases and tells the trace the pool wait's
//! end, the connection's phases with the times they happened, and the acquisition.
void connectionAcquired(ExchangeSettings &settings, AsyncConnection *connection, bool reused);

//! A 401 (407) with \a status was answered: the hop goes again with \a fields. Tells the trace,
//! if any, with the scheme of the answer's Authorization (Proxy-Authorization).
void traceAuthAnswer(const ExchangeSettings &settings, int status, const Headers &fields);

//! Microseconds from the attempt's start to \a t (zero for a time point never set).
std::chrono::microseconds sinceAttemptStart(const ExchangeSettings &settings, Clock::time_point t);

} // namespace Reqivo::Client
