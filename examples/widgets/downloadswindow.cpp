#include "downloadswindow.h"

#include <Reqivo/Reply>

#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

namespace {
QString mib(qint64 bytes)
{
    return QString::number(double(bytes) / (1 << 20), 'f', 1) + QStringLiteral(" MiB");
}
} // namespace

DownloadsWindow::DownloadsWindow(QWidget *parent)
    : QWidget(parent)
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
    grid->addWidget(new QLabel(url.toDisplayString(), this), 0, 0, 1, 2);
    row.bar = new QProgressBar(this);
    row.cancel = new QPushButton(QStringLiteral("Cancel"), this);
    row.status = new QLabel(QStringLiteral("starting"), this);
    grid->addWidget(row.bar, 1, 0);
    grid->addWidget(row.cancel, 1, 1);
    grid->addWidget(row.status, 2, 0, 1, 2);
    m_rowsLayout->addLayout(grid);

    // Streaming: the body is counted and dropped as it arrives instead of being buffered.
    row.reply = m_session.sendGet(url, Reqivo::RequestOptions().streaming());
    m_rows.append(row);

    Reqivo::Reply *reply = row.reply;
    connect(row.cancel, &QPushButton::clicked, this, [this, index] { cancel(index); });
    connect(reply, &Reqivo::Reply::readyRead, this,
        [this, index, reply] { m_rows[index].bytes += reply->readAll().size(); });
    connect(reply, &Reqivo::Reply::downloadProgress, this,
        [this, index](qint64 received, qint64 total) {
            Row &r = m_rows[index];
            const bool first = !r.progressed;
            r.progressed = true;
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
    // finished() ends every download, cancelled and failed ones included: the outcome is read
    // from the Reply.
    connect(reply, &Reqivo::Reply::finished, this, [this, index, reply] {
        if (const Reqivo::Error e = reply->error()) {
            const bool cancelled = m_rows[index].outcome == Outcome::Cancelled;
            end(index, cancelled ? Outcome::Cancelled : Outcome::Failed,
                cancelled ? QStringLiteral("cancelled") : e.toString());
            return;
        }
        const Reqivo::Response r = reply->response();
        m_rows[index].bar->setRange(0, 1000);
        m_rows[index].bar->setValue(1000);
        end(index, r.isSuccess() ? Outcome::Finished : Outcome::Failed,
            QStringLiteral("%1 %2, %3")
                .arg(r.status())
                .arg(QString::fromLatin1(r.reason()), mib(m_rows[index].bytes)));
    });
    return index;
}

void DownloadsWindow::cancel(int row)
{
    Row &r = m_rows[row];
    if (r.outcome != Outcome::Running)
        return;
    r.outcome = Outcome::Cancelled; // abort() answers with errorOccurred(RequestError)
    r.reply->abort();
}

void DownloadsWindow::end(int row, Outcome outcome, const QString &status)
{
    Row &r = m_rows[row];
    r.outcome = outcome;
    r.status->setText(status);
    r.cancel->setEnabled(false);
    if (onDownloadEnded)
        onDownloadEnded();
}
