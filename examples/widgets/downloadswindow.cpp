#include "downloadswindow.h"

#include <Reqivo/Download>

#include <QDir>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QStandardPaths>
#include <QVBoxLayout>

namespace {
QString mib(qint64 bytes)
{
    return QString::number(double(bytes) / (1 << 20), 'f', 1) + QStringLiteral(" MiB");
}
} // namespace

DownloadsWindow::DownloadsWindow(const QString &directory, QWidget *parent)
    : QWidget(parent)
    , m_directory(directory.isEmpty()
              ? QStandardPaths::writableLocation(QStandardPaths::DownloadLocation)
              : directory)
{
    setWindowTitle(QStringLiteral("Reqivo downloads"));
    auto *layout = new QVBoxLayout(this);
    auto *input = new QHBoxLayout;
    m_url = new QLineEdit(this);
    m_url->setPlaceholderText(QStringLiteral("http://127.0.0.1:8080/file.iso"));
    auto *add = new QPushButton(QStringLiteral("Download"), this);
    input->addWidget(m_url);
    input->addWidget(add);
    layout->addLayout(input);
    layout->addWidget(new QLabel(QStringLiteral("Into %1").arg(m_directory), this));
    m_rowsLayout = new QVBoxLayout;
    layout->addLayout(m_rowsLayout);
    layout->addStretch();
    const auto start = [this] {
        const QUrl url = QUrl::fromUserInput(m_url->text());
        if (url.isValid()) {
            addDownload(url);
            m_url->clear();
        }
    };
    connect(add, &QPushButton::clicked, this, start);
    connect(m_url, &QLineEdit::returnPressed, this, start);
    resize(640, 320);
}

int DownloadsWindow::addDownload(const QUrl &url)
{
    const int index = int(m_rows.size());
    Row row;
    auto *grid = new QGridLayout;
    grid->addWidget(new QLabel(url.toDisplayString(), this), 0, 0, 1, 3);
    row.bar = new QProgressBar(this);
    row.pause = new QPushButton(QStringLiteral("Pause"), this);
    row.cancel = new QPushButton(QStringLiteral("Cancel"), this);
    row.status = new QLabel(QStringLiteral("starting"), this);
    grid->addWidget(row.bar, 1, 0);
    grid->addWidget(row.pause, 1, 1);
    grid->addWidget(row.cancel, 1, 2);
    grid->addWidget(row.status, 2, 0, 1, 3);
    m_rowsLayout->addLayout(grid);

    // One file per row: "<row>-<last path segment>". A part left by an earlier run of the
    // same URL into the same file is resumed.
    QString name = QFileInfo(url.path()).fileName();
    if (name.isEmpty())
        name = QStringLiteral("download");
    const QString file = QDir(m_directory).filePath(QString::number(index + 1) + u'-' + name);
    row.download = m_session.startDownload(url, file);
    m_rows.append(row);

    Reqivo::Download *download = row.download;
    connect(row.pause, &QPushButton::clicked, this, [this, index] { togglePause(index); });
    connect(row.cancel, &QPushButton::clicked, this, [this, index] { cancel(index); });
    connect(download, &Reqivo::Download::downloadProgress, this,
        [this, index](qint64 received, qint64 total) {
            Row &r = m_rows[index];
            const bool first = !r.progressed && received > 0;
            r.progressed = r.progressed || received > 0;
            if (total > 0) {
                r.bar->setRange(0, 1000);
                r.bar->setValue(int(1000 * received / total));
                r.status->setText(mib(received) + QStringLiteral(" of ") + mib(total));
            } else {
                r.bar->setRange(0, 0); // unknown size: a busy bar
                r.status->setText(mib(received));
            }
            if (first && onFirstProgress)
                onFirstProgress(index);
        });
    connect(download, &Reqivo::Download::stateChanged, this,
        [this, index](Reqivo::Download::State state) {
            Row &r = m_rows[index];
            if (state == Reqivo::Download::State::Paused) {
                r.outcome = Outcome::Paused;
                r.pause->setText(QStringLiteral("Resume"));
                r.status->setText(QStringLiteral("paused at ") + mib(bytesReceived(index)));
                if (onPaused)
                    onPaused(index);
            } else if (state == Reqivo::Download::State::Running) {
                r.outcome = Outcome::Running;
                r.progressed = false;
                r.pause->setText(QStringLiteral("Pause"));
            }
        });
    // finished() ends every download, cancelled and failed ones included (never a pause): the
    // outcome is read from the Download.
    connect(download, &Reqivo::Download::finished, this, [this, index, download] {
        if (download->state() == Reqivo::Download::State::Aborted) {
            end(index, Outcome::Cancelled, QStringLiteral("cancelled"));
            return;
        }
        if (const Reqivo::Error e = download->error()) {
            // The part stays: Resume tries again from it.
            end(index, Outcome::Failed, e.toString());
            m_rows[index].pause->setText(QStringLiteral("Resume"));
            m_rows[index].pause->setEnabled(true);
            return;
        }
        const Reqivo::DownloadResult r = download->result();
        m_rows[index].bar->setRange(0, 1000);
        m_rows[index].bar->setValue(1000);
        end(index, r.isComplete() ? Outcome::Finished : Outcome::Failed,
            QStringLiteral("%1 %2, %3%4")
                .arg(r.status())
                .arg(QString::fromLatin1(r.response.reason()), mib(r.totalSize),
                    r.resumed ? QStringLiteral(" (resumed)") : QString()));
    });
    return index;
}

void DownloadsWindow::togglePause(int row)
{
    Row &r = m_rows[row];
    if (r.outcome == Outcome::Running)
        r.download->pause(); // stateChanged(Paused) follows
    else if (r.outcome == Outcome::Paused || r.outcome == Outcome::Failed)
        r.download->resume();
}

void DownloadsWindow::cancel(int row)
{
    Row &r = m_rows[row];
    if (r.outcome == Outcome::Finished || r.outcome == Outcome::Cancelled)
        return;
    r.download->abort(); // finished() follows, the state Aborted
}

qint64 DownloadsWindow::bytesReceived(int row) const
{
    return m_rows.at(row).download->bytesReceived();
}

QString DownloadsWindow::filePath(int row) const
{
    return m_rows.at(row).download->filePath();
}

void DownloadsWindow::end(int row, Outcome outcome, const QString &status)
{
    Row &r = m_rows[row];
    r.outcome = outcome;
    r.status->setText(status);
    r.cancel->setEnabled(false);
    r.pause->setEnabled(false);
    if (onDownloadEnded)
        onDownloadEnded();
}
