// A one-line download progress bar on stderr, for -o FILE when stderr is a terminal.
//
// Redrawn at most ten times a second with a carriage return, so a fast download costs almost
// nothing; finish() leaves the final figures on their own line.
#pragma once

#include <QElapsedTimer>
#include <QtGlobal>

namespace ReqivoCli {

class ProgressBar
{
public:
    //! Shows nothing unless \a enabled (stderr is a terminal).
    explicit ProgressBar(bool enabled);
    //! \a total is -1 when the size is not known.
    void update(qint64 received, qint64 total);
    void finish(qint64 received, qint64 total);

private:
    void draw(qint64 received, qint64 total);

    bool m_enabled;
    QElapsedTimer m_started;
    qint64 m_lastDrawMs = -1;
};

//! True when stderr is a terminal.
bool stderrIsTerminal();

} // namespace ReqivoCli
