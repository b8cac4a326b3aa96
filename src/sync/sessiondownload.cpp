// Session::download(): the blocking twin of AsyncSession::download(), one runBlocking() over it.
#include <Reqivo/session.h>

#include "syncrunner_p.h"

namespace Reqivo {

DownloadResult Session::download(
    const QUrl &url, const QString &filePath, const DownloadOptions &opts)
{
    return Sync::runBlocking([&] { return m_async->download(url, filePath, opts); },
        "Reqivo::Session::download()", m_async.get());
}

} // namespace Reqivo
