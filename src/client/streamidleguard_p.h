// StreamIdleGuard: a streamed body nobody reads must not hold its connection (HTTP/1.1) or its
// stream (HTTP/2) for ever. After Timeout::streamIdle without a read, and while no read is
// under way, it calls the owner back, which closes the body (the next read then fails with
// ReadTimeout, detail "stream idle"). Shared by both exchanges.
#pragma once

#include <QTimer>

#include <chrono>
#include <functional>
#include <memory>

namespace Reqivo::Client {

class StreamIdleGuard
{
    struct State; // below; shared with the timer's slot (weakly) and with Reading

public:
    StreamIdleGuard() = default;
    StreamIdleGuard(const StreamIdleGuard &) = delete;
    StreamIdleGuard &operator=(const StreamIdleGuard &) = delete;
    ~StreamIdleGuard()
    {
        // The timer's slot reaches the state through a weak pointer: a timeout that comes
        // before the deletion does nothing.
        if (m_timer)
            m_timer.release()->deleteLater(); // its thread may not be this one
    }

    //! After each read: \a expired runs once \a idle passed without another. A read costs a
    //! clock read, not a timer restart: the timer checks when it fires. \a expired must not
    //! keep its owner alive (take a weak pointer).
    void touch(std::chrono::milliseconds idle, std::function<void()> expired)
    {
        m_state->lastRead = std::chrono::steady_clock::now();
        if (!m_timer) {
            m_state->idle = idle;
            m_state->expired = std::move(expired);
            m_timer = std::make_unique<QTimer>();
            m_timer->setSingleShot(true);
            m_state->timer = m_timer.get();
            QObject::connect(m_timer.get(), &QTimer::timeout,
                             [weak = std::weak_ptr<State>(m_state)] {
                                 if (const auto state = weak.lock())
                                     state->check();
                             });
        }
        if (!m_timer->isActive())
            m_timer->start(m_state->idle);
    }
    void stop()
    {
        if (m_timer)
            m_timer->stop();
    }

    //! While one lives, a read is under way: the body is not idle.
    class Reading
    {
    public:
        explicit Reading(StreamIdleGuard &guard) : m_state(guard.m_state) { ++m_state->reading; }
        ~Reading() { --m_state->reading; }
        Reading(const Reading &) = delete;
        Reading &operator=(const Reading &) = delete;

    private:
        std::shared_ptr<State> m_state;
    };

private:
    struct State
    {
        void check()
        {
            using namespace std::chrono;
            const auto quiet = duration_cast<milliseconds>(steady_clock::now() - lastRead);
            if (reading > 0 || quiet < idle) {
                timer->start(reading > 0 ? idle : idle - quiet);
                return;
            }
            expired();
        }

        QTimer *timer = nullptr;
        std::function<void()> expired;
        std::chrono::milliseconds idle {0};
        std::chrono::steady_clock::time_point lastRead;
        int reading = 0;
    };

    std::shared_ptr<State> m_state = std::make_shared<State>();
    std::unique_ptr<QTimer> m_timer;
};

} // namespace Reqivo::Client
