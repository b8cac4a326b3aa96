// Transport::AbortSignal: how a caller stops a connect or a pool wait that is under way.
//
// The caller (the exchange's cancel token, a Reply's abort()) holds it by std::shared_ptr and
// calls abort(); whatever the transport is waiting on at that moment installed a handler that
// ends the wait at once: AsyncConnection aborts its connecting socket (name lookup, TCP
// connect, proxy handshake, TLS handshake), AsyncConnectionPool takes the caller out of its
// queue. The waiting call then throws RequestError with detail "aborted" (throwAborted()).
//
// One handler at a time: a waiting call installs its own and clears it when it ends (success
// or failure), so a handler set by someone else before such a call does not survive it. The
// handler runs at most once, on the first abort(). Not thread-safe: use it in the thread of the
// connection or pool it stops.
#pragma once

#include <Reqivo/errors.h>

#include <QString>
#include <QUrl>

#include <functional>
#include <memory>
#include <utility>

namespace Reqivo::Transport {

class AbortSignal
{
public:
    bool isAborted() const { return m_aborted; }

    //! Sets the flag and runs the handler (once; later calls do nothing).
    void abort()
    {
        if (m_aborted)
            return;
        m_aborted = true;
        // Taken out first: the handler may install another one or clear it.
        if (std::function<void()> handler = std::exchange(m_handler, {}))
            handler();
    }

    //! Runs \a handler on abort(); at once when abort() was already called.
    void setHandler(std::function<void()> handler)
    {
        if (m_aborted) {
            m_handler = {};
            if (handler)
                handler();
            return;
        }
        m_handler = std::move(handler);
    }

    void clearHandler() { m_handler = {}; }

private:
    bool m_aborted = false;
    std::function<void()> m_handler;
};

//! Installs a handler for the life of a scope (a waiting call's frame) and clears it after.
class AbortScope
{
public:
    AbortScope(std::shared_ptr<AbortSignal> signal, std::function<void()> handler)
        : m_signal(std::move(signal))
    {
        if (m_signal)
            m_signal->setHandler(std::move(handler));
    }
    ~AbortScope()
    {
        if (m_signal)
            m_signal->clearHandler();
    }
    AbortScope(const AbortScope &) = delete;
    AbortScope &operator=(const AbortScope &) = delete;

private:
    std::shared_ptr<AbortSignal> m_signal;
};

inline bool isAborted(const std::shared_ptr<AbortSignal> &signal)
{
    return signal && signal->isAborted();
}

//! The error of a call that \a signal ended: "the request was aborted while <phase>", detail
//! "aborted" (the detail the exchange uses for an aborted request too).
[[noreturn]] inline void throwAborted(const QString &phase, const QUrl &url)
{
    throw RequestError(QStringLiteral("the request was aborted while %1").arg(phase), url,
        QStringLiteral("aborted"));
}

} // namespace Reqivo::Transport
