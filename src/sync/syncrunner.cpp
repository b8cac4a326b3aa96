// BlockingScope: the checks every blocking call makes before it spins a nested event loop.
#include "syncrunner_p.h"

#include <QCoreApplication>
#include <QThread>

#include <atomic>

namespace Reqivo::Sync {

namespace {
thread_local int t_depth = 0;
std::atomic_bool s_warnedGuiThread{false};
} // namespace

BlockingScope::BlockingScope(const char *what, const QObject *owner)
{
    QCoreApplication *app = QCoreApplication::instance();
    if (!app)
        throw ReqivoError(QStringLiteral("%1: Reqivo's blocking classes need a QCoreApplication "
                                         "(or QGuiApplication) object; create one in main()")
                                  .arg(QLatin1String(what)));
    if (owner && owner->thread() != QThread::currentThread())
        throw ReqivoError(QStringLiteral("%1: called from a thread other than the one the object "
                                         "belongs to (the thread that created it, or the one its "
                                         "async twin was moved to); a blocking Reqivo object "
                                         "works only in its own thread: use one per thread")
                              .arg(QLatin1String(what)));
    if (t_depth > 0)
        throw ReqivoError(QStringLiteral("%1: a blocking Reqivo call was started while another "
                                         "one is running on this thread (from a slot or timer "
                                         "called by its nested event loop); use co_await or the "
                                         "Reply signals there instead")
                                  .arg(QLatin1String(what)));
    if (QThread::currentThread() == app->thread() && app->inherits("QGuiApplication")
        && !s_warnedGuiThread.exchange(true)) {
        qWarning("Reqivo: %s blocks the GUI thread in a nested event loop. Timers, socket "
                 "events and queued signals are delivered during the call, so your slots can "
                 "run while it is still on the stack (re-entrancy hazard). Prefer co_await or "
                 "Reqivo::Reply signals on the GUI thread. (This warning is shown once.)",
                 what);
    }
    ++t_depth;
}

BlockingScope::~BlockingScope() { --t_depth; }

bool BlockingScope::isActive() noexcept { return t_depth > 0; }

} // namespace Reqivo::Sync
