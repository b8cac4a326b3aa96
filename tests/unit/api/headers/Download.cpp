#include <Reqivo/Download>

void useDownload(Reqivo::Download *download)
{
    QObject::connect(download, &Reqivo::Download::finished, download, &QObject::deleteLater);
    QObject::connect(
        download, &Reqivo::Download::downloadProgress, download, [](qint64 received, qint64 total) {
            Q_UNUSED(received);
            Q_UNUSED(total);
        });
    download->pause();
    download->resume();
    const Reqivo::DownloadResult r = download->result();
    Q_UNUSED(r.isComplete());
    Q_UNUSED(r.response.header("ETag"));
    const Reqivo::Error e = download->error();
    Q_UNUSED(e.message());
    const Reqivo::DownloadOptions o
        = Reqivo::DownloadOptions().withResumeExistingFile().withRequestOptions(
            Reqivo::RequestOptions().header("Accept", "*/*"));
    Q_UNUSED(o.resume);
}
