// The download engine behind AsyncSession::download(), Download and the blocking and facade
// forms: a streamed GET written to a side file, resumed with Range and If-Range, renamed over
// the target once complete. See download.cpp and docs/downloads.md.
#pragma once

#include <Reqivo/download.h>

#include "exchange_p.h"

#include <QByteArray>
#include <QString>
#include <QUrl>

#include <QCoro/QCoroTask>

#include <functional>
#include <memory>
#include <optional>

namespace Reqivo {

struct SessionCore;

namespace Client {

//! What a Download object shares with its running engine.
struct DownloadControl
{
    //! The token of the request in flight; cancelled by pause() and abort().
    std::shared_ptr<CancelToken> token;
    //! pause() or abort() asked: no further request starts.
    bool stopped = false;
    //! Bytes in hand (an earlier run's included) and the total (-1: unknown), after each write.
    std::function<void(qint64 received, qint64 total)> progress;
};

//! The side file's companion: what identifies the bytes in FILE.part.
struct DownloadMeta
{
    QString url; //!< the absolute URL, without user info
    QByteArray etag; //!< as the server sent it, W/ included
    QByteArray lastModified;
    qint64 total = -1; //!< the resource's size when known
    //! The bytes came from a FILE another tool wrote: no validator ties them to the resource,
    //! so they are resumed without If-Range.
    bool foreign = false;

    //! "reqivo-download 1" and one "key: value" line per field.
    QByteArray serialize() const;
    //! std::nullopt for anything but what serialize() writes.
    static std::optional<DownloadMeta> parse(const QByteArray &text);
    //! The If-Range value: a strong ETag, else Last-Modified; empty when neither is usable.
    QByteArray ifRange() const;
};

//! "bytes first-last/total" or "bytes */total" (RFC 9110 §14.4); total -1 for "*".
struct ContentRange
{
    qint64 first = -1; //!< -1 for "bytes */total"
    qint64 last = -1;
    qint64 total = -1;
    //! std::nullopt when \a value is not a valid byte Content-Range.
    static std::optional<ContentRange> parse(QByteArrayView value);
};

//! The side files of \a filePath: FILE.part and FILE.part.meta.
QString partPath(const QString &filePath);
QString metaPath(const QString &filePath);

//! The engine: one run of a download (see download.cpp). \a control may be null.
QCoro::Task<DownloadResult> runDownload(std::shared_ptr<SessionCore> core, QUrl url,
    QString filePath, DownloadOptions options, std::shared_ptr<DownloadControl> control);

} // namespace Client
} // namespace Reqivo
