// DownloadsWindow: several concurrent downloads, one row each (URL, progress bar, status and a
// Cancel button), driven only by Reqivo::Reply signals: downloadProgress, readyRead, finished,
// errorOccurred; Cancel calls abort().
#pragma once

#include <Reqivo/AsyncSession>

#include <QList>
#include <QWidget>

#include <functional>

class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QVBoxLayout;

class DownloadsWindow : public QWidget
{
public:
    enum class Outcome { Running, Finished, Failed, Cancelled };

    explicit DownloadsWindow(QWidget *parent = nullptr);

    //! Starts downloading \a url in a new row; returns the row's index.
    int addDownload(const QUrl &url);
    //! What the Cancel button of row \a row does.
    void cancel(int row);
    Outcome outcome(int row) const { return m_rows.at(row).outcome; }
    qint64 bytesReceived(int row) const { return m_rows.at(row).bytes; }
    int rowCount() const { return int(m_rows.size()); }
    //! Called whenever a download ends (finished, failed or cancelled).
    std::function<void()> onDownloadEnded;
    //! Called on the first progress signal of each row.
    std::function<void(int row)> onFirstProgress;

private:
    struct Row
    {
        QProgressBar *bar = nullptr;
        QPushButton *cancel = nullptr;
        QLabel *status = nullptr;
        Reqivo::Reply *reply = nullptr;
        qint64 bytes = 0;
        bool progressed = false;
        Outcome outcome = Outcome::Running;
    };
    void end(int row, Outcome outcome, const QString &status);

    Reqivo::AsyncSession m_session;
    QLineEdit *m_url = nullptr;
    QVBoxLayout *m_rowsLayout = nullptr;
    QList<Row> m_rows;
};
