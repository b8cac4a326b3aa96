// What the reqivo command does with one URL's outcome, whichever session produced it.
//
// The async and the blocking (--sync) paths differ only in how they wait for the response and
// its chunks; everything they print or write (heads for -v, the body to stdout or a file, the
// progress bar, the report line, the error) goes through one Output, so the two paths cannot
// drift apart.
#pragma once

#include "cliopts.h"
#include "progressbar.h"

#include <Reqivo/errors.h>
#include <Reqivo/requestoptions.h>
#include <Reqivo/response.h>

#include <QFile>

#include <exception>

namespace ReqivoCli {

//! Where one URL's body goes: stdout (file == nullptr) or an open file.
struct Sink
{
    QFile *file = nullptr;
    bool write(QByteArrayView bytes) const;
};

class Output
{
public:
    Output(const CliOptions &options, const Target &target, Sink sink);

    QByteArray method() const;
    //! The request: headers, body, and streaming unless the report needs the body whole.
    Reqivo::RequestOptions requestOptions() const;
    //! True when the body is streamed: the caller reads every chunk and hands it to write().
    bool streamed() const { return m_streamed; }

    //! The response head arrived (prints the heads with -v).
    void started(const Reqivo::Response &response);
    //! One piece of a streamed body. Throws ReqivoError (and closes the response) when the
    //! output cannot be written.
    void write(Reqivo::Response &response, const QByteArray &chunk);
    //! The body is complete: the report line, when there is a report.
    void finished(const Reqivo::Response &response);
    //! The request failed: the report line or a message on stderr.
    void failed(std::exception_ptr error);

private:
    const CliOptions &m_options;
    const Target &m_target;
    Sink m_sink;
    bool m_streamed;
    ProgressBar m_progress;
    qint64 m_length = 0;
    qint64 m_expected = -1;
};

//! Error::toString() with secrets in its URL redacted (redactUrl()).
QString errorText(const Reqivo::Error &error);
//! Prints "> METHOD URL" and the fields of a request about to be sent, on stderr, secrets
//! redacted.
void printRequestHead(const Reqivo::PreparedRequest &request);
void writeStdout(QByteArrayView bytes);
void printErr(const QString &text);

} // namespace ReqivoCli
