// DownloadsWindow: several concurrent downloads into files, one row each (URL, progress bar,
// status, a Pause/Resume button and a Cancel button), driven only by Reqivo::Download signals:
// downloadProgress, stateChanged, finished, errorOccurred. Pause keeps the part received in
// FILE.part and Resume continues it with Range (docs/downloads.md); Cancel calls abort(), which
// removes it.
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
    enum class Outcome { Running, Paused, Finished, Failed, Cancelled };

    //! Downloads go into \a directory (the user's download directory when empty).
    explicit DownloadsWindow(const QString &directory = {}, QWidget *parent = nullptr);

    //! Starts downloading \a url in a new row; returns the row's index.
    int addDownload(const QUrl &url);
    //! What the Pause/Resume button of row \a row does.
    void togglePause(int row);
    //! What the Cancel button of row \a row does.
    void cancel(int row);
    Outcome outcome(int row) const { return m_rows.at(row).outcome; }
    //! Bytes of the file in hand, a paused part included.
    qint64 bytesReceived(int row) const;
    //! The file row \a row writes.
    QString filePath(int row) const;
    //! The row's download (its result() once finished).
    Reqivo::Download *download(int row) const { return m_rows.at(row).download; }
    int rowCount() const { return int(m_rows.size()); }
    //! Called whenever a download ends (finished, failed or cancelled).
    std::function<void()> onDownloadEnded;
    //! Called on the first progress signal with bytes in hand of each run of a row (again
    //! after Resume).
    std::function<void(int row)> onFirstProgress;
    //! Called when a row is paused.
    std::function<void(int row)> onPaused;

private:
    struct Row
    {
        QProgressBar *bar = nullptr;
        QPushButton *pause = nullptr;
        QPushButton *cancel = nullptr;
        QLabel *status = nullptr;
        Reqivo::Download *download = nullptr;
        bool progressed = false;
        Outcome outcome = Outcome::Running;
    };
    void end(int row, Outcome outcome, const QString &status);

    Reqivo::AsyncSession m_session;
    QString m_directory;
    QLineEdit *m_url = nullptr;
    QVBoxLayout *m_rowsLayout = nullptr;
    QList<Row> m_rows;
};
