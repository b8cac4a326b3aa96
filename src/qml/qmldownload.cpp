#include "qmldownload.h"

#include "httpclient.h"

#include <Reqivo/asyncsession.h>

#include <QMetaObject>

namespace Reqivo::Qml {

namespace {

//! "file:///tmp/x" or "/tmp/x" to "/tmp/x"; empty for another scheme (http:, qrc:) or nothing.
QString localPath(const QString &pathOrUrl)
{
    const QUrl url(pathOrUrl);
    if (url.scheme().isEmpty())
        return pathOrUrl;
    return url.isLocalFile() ? url.toLocalFile() : QString();
}

} // namespace

QmlDownload::QmlDownload(QObject *parent)
    : QObject(parent)
{
}

QmlDownload::~QmlDownload()
{
    // The Download (a child) stops its transfer as it goes, keeping the side files.
    if (m_download)
        m_download->disconnect(this);
}

void QmlDownload::setUrl(const QUrl &url)
{
    if (m_url == url)
        return;
    m_url = url;
    Q_EMIT urlChanged();
}

void QmlDownload::setFilePath(const QString &path)
{
    if (m_filePath == path)
        return;
    m_filePath = path;
    Q_EMIT filePathChanged();
}

void QmlDownload::setHeaders(const QVariantMap &headers)
{
    if (m_headers == headers)
        return;
    m_headers = headers;
    Q_EMIT headersChanged();
}

void QmlDownload::setClient(HttpClient *client)
{
    if (m_client == client)
        return;
    m_client = client;
    Q_EMIT clientChanged();
}

void QmlDownload::setResumeExistingFile(bool on)
{
    if (m_resumeExistingFile == on)
        return;
    m_resumeExistingFile = on;
    Q_EMIT resumeExistingFileChanged();
}

AsyncSession *QmlDownload::session()
{
    if (m_client && m_client->session())
        return m_client->session();
    if (!m_ownSession)
        m_ownSession = new AsyncSession(this);
    return m_ownSession;
}

QString QmlDownload::state() const
{
    if (m_startError)
        return QStringLiteral("failed");
    if (!m_download)
        return QStringLiteral("idle");
    switch (m_download->state()) {
    case Download::State::Running:
        return QStringLiteral("running");
    case Download::State::Paused:
        return QStringLiteral("paused");
    case Download::State::Finished:
        return QStringLiteral("finished");
    case Download::State::Failed:
        return QStringLiteral("failed");
    case Download::State::Aborted:
        return QStringLiteral("aborted");
    }
    return QStringLiteral("idle");
}

bool QmlDownload::isRunning() const
{
    return m_download && m_download->state() == Download::State::Running;
}
double QmlDownload::bytesReceived() const
{
    return m_download ? double(m_download->bytesReceived()) : 0.0;
}
double QmlDownload::totalSize() const
{
    return m_download ? double(m_download->totalSize()) : -1.0;
}
double QmlDownload::progress() const
{
    if (isComplete())
        return 1.0;
    const double total = totalSize();
    return total > 0 ? bytesReceived() / total : 0.0;
}
int QmlDownload::status() const
{
    return m_download ? m_download->result().status() : 0;
}
bool QmlDownload::isComplete() const
{
    return m_download && m_download->result().isComplete();
}
bool QmlDownload::isResumed() const
{
    return m_download && m_download->result().resumed;
}
double QmlDownload::bytesThisRun() const
{
    return m_download ? double(m_download->result().bytesReceived) : 0.0;
}
Error QmlDownload::error() const
{
    if (m_startError)
        return m_startError;
    return m_download ? m_download->error() : Error();
}

void QmlDownload::start()
{
    if (isRunning())
        return;
    if (m_download) {
        m_download->disconnect(this);
        m_download->deleteLater();
        m_download = nullptr;
    }
    m_startError = Error();
    const QString path = localPath(m_filePath);
    if (path.isEmpty()) {
        m_startError = Error(Error::Kind::Request,
            QStringLiteral("Download.filePath must be a path or a file: URL, "
                           "not \"%1\"")
                .arg(m_filePath),
            m_url);
        QMetaObject::invokeMethod(
            this,
            [this] {
                Q_EMIT stateChanged();
                Q_EMIT errorOccurred(m_startError);
                Q_EMIT finished();
            },
            Qt::QueuedConnection);
        return;
    }
    RequestOptions request;
    for (auto it = m_headers.cbegin(); it != m_headers.cend(); ++it)
        request.headers.set(it.key().toUtf8(), it.value().toString().toUtf8());
    const DownloadOptions options
        = DownloadOptions().withRequestOptions(request).withResumeExistingFile(
            m_resumeExistingFile);
    Download *download = session()->startDownload(m_url, path, options, this);
    m_download = download;
    connect(download, &Download::downloadProgress, this, &QmlDownload::progressChanged);
    connect(download, &Download::stateChanged, this, [this] {
        Q_EMIT stateChanged();
        Q_EMIT progressChanged();
    });
    connect(download, &Download::errorOccurred, this, &QmlDownload::errorOccurred);
    connect(download, &Download::finished, this, &QmlDownload::finished);
    Q_EMIT stateChanged();
    Q_EMIT progressChanged();
}

void QmlDownload::pause()
{
    if (m_download)
        m_download->pause();
}

void QmlDownload::resume()
{
    if (m_download)
        m_download->resume();
}

void QmlDownload::abort()
{
    if (m_download)
        m_download->abort();
}

} // namespace Reqivo::Qml
