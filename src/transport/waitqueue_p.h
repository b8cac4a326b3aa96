// WaitQueue: coroutines wait on it until something changes, with an optional timeout.
//
//     while (!condition())
//         if (!co_await queue.wait(timeout))   // false: timed out
//             throw ...;
//
// wakeAll() resumes, at once and in order, every coroutine that was waiting when it was called;
// one that waits again during that pass waits for the next wakeAll(). Resuming directly (not
// through a queued signal as QCoro's signal awaiter does) keeps a received message one function
// call away from the coroutine that waits for it, which is what makes receive() as cheap as a
// slot. The price is that a waiter runs inside whatever called wakeAll(): the socket code only
// calls it where a resumed coroutine may do anything, including destroying the socket.
//
// Waiters are linked into the queue from their own coroutine frames (no allocation unless a
// timeout needs a timer), and unlink themselves if their frame goes away first.
#pragma once

#include <QTimer>

#include <chrono>
#include <coroutine>
#include <memory>

namespace Reqivo::Transport {

class WaitQueue
{
public:
    class Awaiter
    {
    public:
        Awaiter(WaitQueue &queue, std::chrono::milliseconds timeout)
            : m_queue(&queue)
            , m_timeout(timeout)
        {
        }
        //! Only ever moved before it is awaited (co_await may move the temporary).
        Awaiter(Awaiter &&other) noexcept
            : m_queue(other.m_queue)
            , m_timeout(other.m_timeout)
        {
            Q_ASSERT(!other.m_linked && !other.m_timer);
        }
        Awaiter(const Awaiter &) = delete;
        Awaiter &operator=(const Awaiter &) = delete;
        Awaiter &operator=(Awaiter &&) = delete;
        ~Awaiter()
        {
            if (m_linked)
                m_queue->unlink(this);
            releaseTimer();
        }

        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> handle)
        {
            m_handle = handle;
            m_queue->link(this);
            if (m_timeout >= std::chrono::milliseconds::zero()) {
                m_timer = new QTimer;
                m_timer->setSingleShot(true);
                QObject::connect(m_timer, &QTimer::timeout, m_timer, [this] {
                    m_timedOut = true;
                    m_queue->unlink(this);
                    releaseTimer(); // the timer is inside its own signal: it must not die here
                    m_handle.resume();
                });
                m_timer->start(m_timeout);
            }
        }
        //! True when woken, false when the timeout passed first.
        bool await_resume() const noexcept { return !m_timedOut; }

    private:
        friend class WaitQueue;
        void releaseTimer()
        {
            if (m_timer) {
                m_timer->stop();
                m_timer->disconnect();
                m_timer->deleteLater();
                m_timer = nullptr;
            }
        }

        WaitQueue *m_queue;
        std::chrono::milliseconds m_timeout;
        std::coroutine_handle<> m_handle;
        QTimer *m_timer = nullptr;
        Awaiter *m_prev = nullptr;
        Awaiter *m_next = nullptr;
        quint64 m_generation = 0;
        bool m_linked = false;
        bool m_timedOut = false;
    };

    WaitQueue() = default;
    WaitQueue(const WaitQueue &) = delete;
    WaitQueue &operator=(const WaitQueue &) = delete;
    ~WaitQueue()
    {
        // Coroutines still waiting hold a reference to the socket's state, which owns this
        // queue, so none can be left; unlink defensively all the same.
        while (m_head)
            unlink(m_head);
    }

    //! Awaitable: suspends until wakeAll() (true) or until \a timeout passes (false).
    //! A negative timeout waits for ever.
    Awaiter wait(std::chrono::milliseconds timeout = std::chrono::milliseconds(-1))
    {
        return Awaiter(*this, timeout);
    }

    bool isEmpty() const noexcept { return m_head == nullptr; }

    void wakeAll()
    {
        const quint64 generation = ++m_generation;
        while (m_head && m_head->m_generation < generation) {
            Awaiter *awaiter = m_head;
            unlink(awaiter);
            awaiter->releaseTimer();
            awaiter->m_handle.resume();
        }
    }

private:
    void link(Awaiter *awaiter) noexcept
    {
        awaiter->m_generation = m_generation;
        awaiter->m_prev = m_tail;
        awaiter->m_next = nullptr;
        if (m_tail)
            m_tail->m_next = awaiter;
        else
            m_head = awaiter;
        m_tail = awaiter;
        awaiter->m_linked = true;
    }
    void unlink(Awaiter *awaiter) noexcept
    {
        if (!awaiter->m_linked)
            return;
        if (awaiter->m_prev)
            awaiter->m_prev->m_next = awaiter->m_next;
        else
            m_head = awaiter->m_next;
        if (awaiter->m_next)
            awaiter->m_next->m_prev = awaiter->m_prev;
        else
            m_tail = awaiter->m_prev;
        awaiter->m_prev = awaiter->m_next = nullptr;
        awaiter->m_linked = false;
    }

    Awaiter *m_head = nullptr;
    Awaiter *m_tail = nullptr;
    quint64 m_generation = 0;
};

} // namespace Reqivo::Transport
