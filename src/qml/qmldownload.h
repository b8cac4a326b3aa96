// Download (QML): a resumable download of a URL into a file, with progress, pause() and
// resume(), over Reqivo::Download (docs/downloads.md).
//
//   import Reqivo
//   HttpClient { id: api; baseUrl: "https://example.com" }
//   Download {
//       id: iso
//       client: api                       // its session: base URL, auth, TLS, proxy, retries
//       url: "/big.iso"
//       filePath: "file:///tmp/big.iso"   // a path or a file: URL
//       onFinished: console.log(status, complete, bytesReceived)
//       onErrorOccurred: (error) => console.warn(error.type, error.message)
//   }
//   Button { text: iso.state === "paused" ? "Resume" : "Pause"
//            onClicked: iso.state === "paused" ? iso.resume() : iso.pause() }
//
// While the download is incomplete its bytes live in FILE.part (and FILE.part.meta), never in
// FILE; start() on a FILE with side files continues them with Range and If-Range. Settings
// apply at the next start(). Without a client it uses a session of its own.
#pragma once

#include <Reqivo/download.h>
#include <Reqivo/errors.h>

#include <QObject>
#include <QPointer>
#include <QString>
#include <QUrl>
#include <QVariantMap>
#include <QtQml/qqmlregistration.h>

namespace Reqivo {
class AsyncSession;
}

namespace Reqivo::Qml {

class HttpClient;

class QmlDownload : public QObject
{
    Q_OBJECT
    QML_NAMED_ELEMENT(Download)
    Q_MOC_INCLUDE("httpclient.h")

    //! The URL; with a client, relative to its baseUrl.
    Q_PROPERTY(QUrl url READ url WRITE setUrl NOTIFY urlChanged)
    //! The file to write: a path or a file: URL.
    Q_PROPERTY(QString filePath READ filePath WRITE setFilePath NOTIFY filePathChanged)
    //! Extra request headers: {name: value}.
    Q_PROPERTY(QVariantMap headers READ headers WRITE setHeaders NOTIFY headersChanged)
    //! Download as this HttpClient's session sends requests; null: a session of its own.
    Q_PROPERTY(Reqivo::Qml::HttpClient *client READ client WRITE setClient NOTIFY clientChanged)
    //! A FILE without side files (another tool's partial download) is continued from its size
    //! (without If-Range), as `curl -C -`; false (the default): it is replaced.
    Q_PROPERTY(bool resumeExistingFile READ resumeExistingFile WRITE setResumeExistingFile NOTIFY
            resumeExistingFileChanged)
    //! "idle" (never started), "running", "paused", "finished", "failed" or "aborted".
    Q_PROPERTY(QString state READ state NOTIFY stateChanged)
    //! True while "running".
    Q_PROPERTY(bool running READ isRunning NOTIFY stateChanged)
    //! Bytes in hand (an earlier run's included) and the total (-1 until known).
    Q_PROPERTY(double bytesReceived READ bytesReceived NOTIFY progressChanged)
    Q_PROPERTY(double totalSize READ totalSize NOTIFY progressChanged)
    //! bytesReceived / totalSize while the total is known, else 0; 1 once complete.
    Q_PROPERTY(double progress READ progress NOTIFY progressChanged)
    //! Once "finished": the last response's status, whether FILE holds the whole resource,
    //! whether the run continued earlier data, and the bytes received in this run.
    Q_PROPERTY(int status READ status NOTIFY stateChanged)
    Q_PROPERTY(bool complete READ isComplete NOTIFY stateChanged)
    Q_PROPERTY(bool resumed READ isResumed NOTIFY stateChanged)
    Q_PROPERTY(double bytesThisRun READ bytesThisRun NOTIFY stateChanged)
    //! Why it "failed" or was "aborted" (type, message, url, detail, code); a null error
    //! otherwise.
    Q_PROPERTY(Reqivo::Error error READ error NOTIFY stateChanged)

public:
    explicit QmlDownload(QObject *parent = nullptr);
    ~QmlDownload() override;

    QUrl url() const { return m_url; }
    void setUrl(const QUrl &url);
    QString filePath() const { return m_filePath; }
    void setFilePath(const QString &path);
    QVariantMap headers() const { return m_headers; }
    void setHeaders(const QVariantMap &headers);
    HttpClient *client() const { return m_client; }
    void setClient(HttpClient *client);
    bool resumeExistingFile() const { return m_resumeExistingFile; }
    void setResumeExistingFile(bool on);

    QString state() const;
    bool isRunning() const;
    double bytesReceived() const;
    double totalSize() const;
    double progress() const;
    int status() const;
    bool isComplete() const;
    bool isResumed() const;
    double bytesThisRun() const;
    Error error() const;

    //! Starts the download (again, after it ended: from the side files if any). A filePath
    //! that is neither a path nor a file: URL fails it at once ("failed").
    Q_INVOKABLE void start();
    //! Stops the transfer, keeping the side files: "paused".
    Q_INVOKABLE void pause();
    //! Continues a "paused" or "failed" download with Range.
    Q_INVOKABLE void resume();
    //! Stops it and removes the side files: "aborted".
    Q_INVOKABLE void abort();

Q_SIGNALS:
    void urlChanged();
    void filePathChanged();
    void headersChanged();
    void clientChanged();
    void resumeExistingFileChanged();
    void stateChanged();
    void progressChanged();
    //! The download ended: "finished", "failed" or "aborted".
    void finished();
    //! It "failed" or was "aborted": \a error tells why; finished() follows.
    void errorOccurred(const Reqivo::Error &error);

private:
    Reqivo::AsyncSession *session();

    QUrl m_url;
    QString m_filePath;
    QVariantMap m_headers;
    QPointer<HttpClient> m_client;
    bool m_resumeExistingFile = false;
    Reqivo::AsyncSession *m_ownSession = nullptr;
    QPointer<Reqivo::Download> m_download;
    Error m_startError; //!< a filePath that could not be used
};

} // namespace Reqivo::Qml
