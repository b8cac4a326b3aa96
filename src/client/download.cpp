// The download engine: a streamed GET written to FILE.part, its identity (URL, validators,
// total) in FILE.part.meta, renamed over FILE once complete and verified.
//
// One run is a loop of requests. The first asks for the bytes after those in hand (Range:
// bytes=N-, with If-Range unless the bytes came from a foreign FILE); its answer decides:
//   206  Content-Range must start at N and agree with the known total, else the run fails
//        with InvalidResponseError before a byte is written; the body is appended.
//   2xx  the whole resource (Range ignored, or If-Range failed): the side file starts over.
//   416  "bytes */N" with N the bytes in hand: they are the whole resource, the run completes.
//   else a response that does not deliver the resource: returned, the files as they were.
// A body that breaks off (the connection, a read timeout) is continued from where it stopped
// with another Range request when the retry policy allows another attempt: the written bytes
// are kept whatever happens, and If-Range guards the continuation, so resending is safe for
// this GET even though its response had started. Memory stays bounded: each piece read from
// the connection is written before the next is read.
#include <Reqivo/asyncsession.h>
#include <Reqivo/download.h>

#include "asyncsession_p.h"
#include "download_p.h"
#include "prepare_p.h"
#include "retry_p.h"

#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QSaveFile>
#include <QScopeGuard>

#include <filesystem>
#include <system_error>

#ifdef Q_OS_UNIX
#include <unistd.h>
#endif

namespace Reqivo {
namespace Client {

namespace {

constexpr qint64 errorBodyBytes = 1024 * 1024;

QUrl withoutUserInfo(QUrl url)
{
    url.setUserInfo(QString());
    return url;
}

std::filesystem::path fsPath(const QString &path)
{
#ifdef Q_OS_WIN
    return std::filesystem::path(path.toStdWString());
#else
    return std::filesystem::path(QFile::encodeName(path).toStdString());
#endif
}

[[noreturn]] void fileError(
    const QString &what, const QString &path, const QString &why, const QUrl &url)
{
    throw RequestError(QStringLiteral("%1 \"%2\": %3").arg(what, path, why), url, why);
}

[[noreturn]] void mismatch(const QString &message, const QUrl &url, const Response &response)
{
    throw InvalidResponseError(message, url, QString::fromLatin1(response.header("Content-Range")));
}

bool parseNumber(QByteArrayView digits, qint64 *out)
{
    if (digits.isEmpty() || digits.size() > 18)
        return false;
    qint64 n = 0;
    for (const char c : digits) {
        if (c < '0' || c > '9')
            return false;
        n = n * 10 + (c - '0');
    }
    *out = n;
    return true;
}

// Writes the meta file atomically (a new file renamed over the old).
void writeMeta(const QString &path, const DownloadMeta &meta, const QUrl &url)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        fileError(QStringLiteral("cannot write"), path, file.errorString(), url);
    file.write(meta.serialize());
    if (!file.commit())
        fileError(QStringLiteral("cannot write"), path, file.errorString(), url);
}

void renameOver(const QString &from, const QString &to, const QUrl &url)
{
    std::error_code ec;
    std::filesystem::rename(fsPath(from), fsPath(to), ec);
    if (ec)
        fileError(QStringLiteral("cannot rename \"%1\" to").arg(from), to,
            QString::fromLocal8Bit(ec.message()), url);
}

// The side file, open for writing, flushed and synced on close.
class PartWriter
{
public:
    PartWriter(const QString &path, bool truncate, const QUrl &url)
        : m_file(path)
        , m_url(url)
    {
        const QIODevice::OpenMode mode
            = QIODevice::WriteOnly | (truncate ? QIODevice::Truncate : QIODevice::Append);
        if (!m_file.open(mode))
            fileError(QStringLiteral("cannot write"), path, m_file.errorString(), url);
    }
    void write(const QByteArray &piece)
    {
        if (m_file.write(piece) != piece.size() || !m_file.flush())
            fail();
    }
    //! Flushes, syncs to disk and closes; throws when the data did not reach the disk.
    void finish()
    {
        if (!m_file.flush())
            fail();
#ifdef Q_OS_UNIX
        if (::fsync(m_file.handle()) != 0)
            fail();
#endif
        m_file.close();
    }

private:
    [[noreturn]] void fail()
    {
        const QString why = m_file.errorString();
        m_file.close();
        fileError(QStringLiteral("cannot write"), m_file.fileName(), why, m_url);
    }
    QFile m_file;
    QUrl m_url;
};

// At most errorBodyBytes of a body that did not deliver the resource, kept in the response.
QCoro::Task<Response> keepErrorBody(Response response)
{
    QByteArray body;
    try {
        while (body.size() < errorBodyBytes) {
            const QByteArray piece = co_await response.readChunk(errorBodyBytes - body.size());
            if (piece.isEmpty())
                break;
            body.append(piece);
        }
    } catch (const RequestError &) {
        // The body is for a message only: what arrived is enough.
    }
    response.close();
    response.setBodyStream(nullptr);
    response.setBody(body);
    co_return response;
}

Response headOnly(Response response)
{
    response.close();
    response.setBodyStream(nullptr);
    response.setBody(QByteArray());
    return response;
}

} // namespace

// --- the meta file and Content-Range ---------------------------------------------------------

QByteArray DownloadMeta::serialize() const
{
    QByteArray out = "reqivo-download 1\n";
    out += "url: " + url.toUtf8() + '\n';
    if (!etag.isEmpty())
        out += "etag: " + etag + '\n';
    if (!lastModified.isEmpty())
        out += "last-modified: " + lastModified + '\n';
    out += "total: " + QByteArray::number(total) + '\n';
    if (foreign)
        out += "foreign: 1\n";
    return out;
}

std::optional<DownloadMeta> DownloadMeta::parse(const QByteArray &text)
{
    const QList<QByteArray> lines = text.split('\n');
    if (lines.value(0) != "reqivo-download 1")
        return std::nullopt;
    DownloadMeta meta;
    bool haveUrl = false;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray &line = lines[i];
        if (line.isEmpty())
            continue;
        const qsizetype colon = line.indexOf(": ");
        if (colon <= 0)
            return std::nullopt;
        const QByteArray key = line.left(colon);
        const QByteArray value = line.mid(colon + 2);
        if (key == "url") {
            meta.url = QString::fromUtf8(value);
            haveUrl = true;
        } else if (key == "etag") {
            meta.etag = value;
        } else if (key == "last-modified") {
            meta.lastModified = value;
        } else if (key == "total") {
            bool ok = false;
            meta.total = value.toLongLong(&ok);
            if (!ok || meta.total < -1)
                return std::nullopt;
        } else if (key == "foreign") {
            meta.foreign = value == "1";
        } else {
            return std::nullopt;
        }
    }
    if (!haveUrl)
        return std::nullopt;
    return meta;
}

QByteArray DownloadMeta::ifRange() const
{
    // RFC 9110 §13.1.5: never a weak entity tag.
    if (!etag.isEmpty() && !etag.startsWith("W/"))
        return etag;
    return lastModified;
}

std::optional<ContentRange> ContentRange::parse(QByteArrayView value)
{
    value = value.trimmed();
    if (value.size() < 6 || QByteArrayView(value.first(6)).compare("bytes ", Qt::CaseInsensitive))
        return std::nullopt;
    value = value.sliced(6).trimmed();
    const qsizetype slash = value.indexOf('/');
    if (slash < 0)
        return std::nullopt;
    const QByteArrayView range = value.first(slash).trimmed();
    const QByteArrayView total = value.sliced(slash + 1).trimmed();
    ContentRange cr;
    if (total != "*" && !parseNumber(total, &cr.total))
        return std::nullopt;
    if (range == "*") {
        if (cr.total < 0)
            return std::nullopt; // "bytes */*" says nothing
        return cr;
    }
    const qsizetype dash = range.indexOf('-');
    if (dash < 0 || !parseNumber(range.first(dash), &cr.first)
        || !parseNumber(range.sliced(dash + 1), &cr.last) || cr.last < cr.first
        || (cr.total >= 0 && cr.last >= cr.total))
        return std::nullopt;
    return cr;
}

QString partPath(const QString &filePath)
{
    return filePath + QStringLiteral(".part");
}
QString metaPath(const QString &filePath)
{
    return filePath + QStringLiteral(".part.meta");
}

// --- the engine --------------------------------------------------------------------------------

QCoro::Task<DownloadResult> runDownload(std::shared_ptr<SessionCore> core, QUrl url,
    QString filePath, DownloadOptions options, std::shared_ptr<DownloadControl> control)
{
    if (!control)
        control = std::make_shared<DownloadControl>();
    DownloadResult result;
    result.filePath = filePath;
    const QUrl absolute
        = withoutUserInfo(Client::requestUrl(core->baseUrl, url, options.request.query));
    if (filePath.isEmpty())
        throw RequestError(QStringLiteral("download(): no file to write to"), absolute);
    const QString part = partPath(filePath);
    const QString metaFile = metaPath(filePath);

    RequestOptions request = std::move(options.request);
    request.stream = true;
    request.decompress = false; // Range counts the bytes as sent
    request.body = Body();
    request.headers.remove("range");
    request.headers.remove("if-range");
    // cancelWith(owner) ends the whole download, the body included.
    std::optional<QPointer<const QObject>> owner = std::exchange(request.owner, std::nullopt);
    QMetaObject::Connection ownerWatch;
    if (owner) {
        if (!*owner)
            control->stopped = true;
        else
            ownerWatch = QObject::connect(owner->data(), &QObject::destroyed, [control] {
                control->stopped = true;
                if (control->token)
                    control->token->cancel();
            });
    }
    const auto unwatch = qScopeGuard([&ownerWatch] { QObject::disconnect(ownerWatch); });
    const std::shared_ptr<const RetryPolicy> policy
        = request.retry ? std::make_shared<const RetryPolicy>(*request.retry) : core->retryPolicy;

    // --- what is in hand ----------------------------------------------------------------------
    DownloadMeta meta;
    meta.url = absolute.toString(QUrl::FullyEncoded);
    qint64 have = 0;
    bool foreign = false; // the bytes in hand are FILE itself, not yet moved to the side file
    const QFileInfo partInfo(part);
    if (options.resume && partInfo.isFile() && partInfo.size() > 0) {
        QFile f(metaFile);
        if (f.open(QIODevice::ReadOnly)) {
            const std::optional<DownloadMeta> stored = DownloadMeta::parse(f.read(64 * 1024));
            if (stored && stored->url == meta.url
                && (stored->foreign || !stored->ifRange().isEmpty())) {
                meta = *stored;
                have = partInfo.size();
            }
        }
    } else if (options.resumeExistingFile && !partInfo.exists()) {
        const QFileInfo target(filePath);
        if (target.isFile() && target.size() > 0) {
            have = target.size();
            foreign = true;
            meta.foreign = true;
        }
    }
    result.resumedFrom = have;
    result.totalSize = meta.total;
    if (control->progress && have > 0)
        control->progress(have, meta.total);

    int attempt = 1;
    bool first = true; // the run's first answer, which tells whether it resumed
    while (true) {
        RequestOptions r = request;
        if (have > 0) {
            r.headers.set("Range", "bytes=" + QByteArray::number(have) + '-');
            if (!meta.foreign)
                r.headers.set("If-Range", meta.ifRange());
        }
        const auto token = std::make_shared<CancelToken>();
        control->token = token;
        if (control->stopped)
            token->cancel();
        AsyncSessionPrivate::CallControl call;
        call.cancel = token;
        Response response = co_await AsyncSessionPrivate::run(
            core, QByteArrayLiteral("GET"), url, r, std::move(call));
        const QUrl at = withoutUserInfo(response.url());
        const int status = response.status();

        // --- what the answer means --------------------------------------------------------------
        bool truncate = false;
        qint64 expectedEnd = -1; // where the body must end, when known
        if (status == 416 && have > 0) {
            const std::optional<ContentRange> cr
                = ContentRange::parse(response.header("Content-Range"));
            if (!cr || cr->first >= 0 || cr->total != have
                || (meta.total >= 0 && meta.total != have)) {
                mismatch(QStringLiteral("416 for bytes %1-: the resource's size (%2) is not the "
                                        "%1 bytes in hand")
                             .arg(have)
                             .arg(cr ? QString::number(cr->total) : QStringLiteral("?")),
                    at, response);
            }
            result.response = headOnly(std::move(response));
            if (!foreign) {
                renameOver(part, filePath, at);
                QFile::remove(metaFile);
            }
            result.totalSize = have;
            result.resumed = true;
            result.complete = true;
            co_return result;
        }
        if (status == 206) {
            const std::optional<ContentRange> cr
                = ContentRange::parse(response.header("Content-Range"));
            if (!cr || cr->first < 0)
                mismatch(QStringLiteral("206 without a valid Content-Range"), at, response);
            if (cr->first != have)
                mismatch(QStringLiteral("206 for bytes %1-%2, not from %3 on as asked")
                             .arg(cr->first)
                             .arg(cr->last)
                             .arg(have),
                    at, response);
            if (meta.total >= 0 && cr->total >= 0 && cr->total != meta.total)
                mismatch(QStringLiteral("206 for a resource of %1 bytes, not %2 as before")
                             .arg(cr->total)
                             .arg(meta.total),
                    at, response);
            expectedEnd = cr->last + 1;
            if (cr->total >= 0)
                meta.total = cr->total;
            if (foreign) {
                // FILE becomes the side file, tied from now on to this response's validators.
                meta.foreign = false;
                meta.etag = response.header("ETag");
                meta.lastModified = response.header("Last-Modified");
                writeMeta(metaFile, meta, at);
                renameOver(filePath, part, at);
                foreign = false;
            } else if (have == 0 || result.totalSize != meta.total) {
                if (have == 0) {
                    meta.etag = response.header("ETag");
                    meta.lastModified = response.header("Last-Modified");
                    truncate = true;
                }
                writeMeta(metaFile, meta, at);
            }
        } else if (status >= 200 && status < 300) {
            // The whole resource: from zero, whatever was in hand.
            have = 0;
            truncate = true;
            foreign = false;
            meta.foreign = false;
            meta.etag = response.header("ETag");
            meta.lastModified = response.header("Last-Modified");
            meta.total = response.expectedSize();
            expectedEnd = meta.total;
            writeMeta(metaFile, meta, at);
        } else {
            result.response = co_await keepErrorBody(std::move(response));
            co_return result;
        }
        result.totalSize = meta.total;

        // --- the body -------------------------------------------------------------------------
        if (first)
            result.resumed = status == 206 && have > 0;
        first = false;
        bool broken = false;
        try {
            PartWriter writer(part, truncate, at);
            if (control->progress)
                control->progress(have, meta.total);
            while (true) {
                const QByteArray piece = co_await response.readChunk();
                if (piece.isEmpty())
                    break;
                if (expectedEnd >= 0 && have + piece.size() > expectedEnd) {
                    response.close();
                    mismatch(QStringLiteral("the body goes past byte %1").arg(expectedEnd), at,
                        response);
                }
                writer.write(piece);
                have += piece.size();
                result.bytesReceived += piece.size();
                if (control->progress)
                    control->progress(have, meta.total);
            }
            writer.finish();
        } catch (const RequestError &e) {
            response.close();
            // A body cut short is continued where it stopped, when the policy allows another
            // attempt; the bytes written stay in the side file either way.
            const bool cut = e.kind() == Error::Kind::Network
                || e.kind() == Error::Kind::ReadTimeout || e.kind() == Error::Kind::Protocol;
            if (!cut || control->stopped || !policy || attempt >= policy->maxAttempts
                || (meta.ifRange().isEmpty() && !meta.foreign))
                throw;
            RetryAttempt failed;
            failed.method = QByteArrayLiteral("GET");
            failed.url = at;
            failed.attempt = attempt;
            failed.error = e.error();
            if (policy->decide(failed) != RetryDecision::Retry)
                throw;
            broken = true;
        }
        if (broken) {
            const std::chrono::milliseconds delay = Client::backoffDelay(
                *policy, attempt, QRandomGenerator::global()->generateDouble());
            ++attempt;
            co_await Client::cancellableSleep(delay, token, at);
            have = QFileInfo(part).size();
            continue;
        }
        if (expectedEnd >= 0 && have < expectedEnd)
            mismatch(QStringLiteral("the body ended at byte %1 of %2").arg(have).arg(expectedEnd),
                at, response);
        result.response = headOnly(std::move(response));
        if (meta.total >= 0 && have < meta.total)
            continue; // a 206 for less than the rest: ask for what is missing
        if (meta.total >= 0 && have != meta.total)
            mismatch(QStringLiteral("%1 bytes for a resource of %2").arg(have).arg(meta.total), at,
                result.response);
        renameOver(part, filePath, at);
        QFile::remove(metaFile);
        result.totalSize = have;
        result.complete = true;
        co_return result;
    }
}

} // namespace Client

// --- the coroutine and blocking forms ------------------------------------------------------------

QCoro::Task<DownloadResult> AsyncSession::download(QUrl url, QString filePath, DownloadOptions opts)
{
    return Client::runDownload(AsyncSessionPrivate::coreOf(this), std::move(url),
        std::move(filePath), std::move(opts), nullptr);
}

} // namespace Reqivo
