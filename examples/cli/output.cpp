#include "output.h"

#include "report.h"

#include <Reqivo/body.h>
#include <Reqivo/errors.h>
#include <Reqivo/redaction.h>

#include <cstdio>

using namespace Qt::StringLiterals;

namespace ReqivoCli {

namespace {

void printResponseHead(const Reqivo::Response &response)
{
    QByteArray head = "< HTTP/" + response.httpVersion().toLatin1() + ' '
        + QByteArray::number(response.status()) + ' ' + response.reason() + '\n';
    for (const auto &field : response.headers())
        head += "< " + field.name.toByteArray() + ": "
            + Reqivo::redactFieldValue(field.name, field.value) + '\n';
    head += "<\n";
    std::fwrite(head.constData(), 1, size_t(head.size()), stderr);
    std::fflush(stderr);
}

} // namespace

QString errorText(const Reqivo::Error &error)
{
    // Error::toString() with the URL redacted: it already lacks user info, but not the values
    // of tokens in its query.
    QString s = error.typeName() + u": "_s + error.message();
    if (!error.url().isEmpty())
        s += u" ("_s + Reqivo::redactUrl(error.url()) + u')';
    if (!error.detail().isEmpty())
        s += u" ["_s + error.detail() + u']';
    return s;
}

void writeStdout(QByteArrayView bytes)
{
    std::fwrite(bytes.data(), 1, size_t(bytes.size()), stdout);
}

void printErr(const QString &text)
{
    const QByteArray bytes = text.toLocal8Bit();
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stderr);
    std::fflush(stderr);
}

void printRequestHead(const Reqivo::PreparedRequest &request)
{
    // Every field is printed, with the values of secrets (credentials, cookies, URL user info,
    // tokens in the query) replaced by <redacted>.
    QByteArray head = "> " + request.method + ' ' + Reqivo::redactUrl(request.url).toUtf8() + '\n';
    for (const auto &field : request.headers)
        head += "> " + field.name.toByteArray() + ": "
            + Reqivo::redactFieldValue(field.name, field.value) + '\n';
    head += ">\n";
    std::fwrite(head.constData(), 1, size_t(head.size()), stderr);
    std::fflush(stderr);
}

bool Sink::write(QByteArrayView bytes) const
{
    if (!file) {
        writeStdout(bytes);
        return !std::ferror(stdout);
    }
    return file->write(bytes.data(), bytes.size()) == bytes.size();
}

Output::Output(const CliOptions &options, const Target &target, Sink sink)
    : m_options(options)
    , m_target(target)
    , m_sink(sink)
    // The report carries the body itself, so it is buffered; anything else is streamed.
    , m_streamed(!(options.report && !sink.file))
    , m_progress(sink.file && stderrIsTerminal())
{
}

QByteArray Output::method() const
{
    if (!m_options.method.isEmpty())
        return m_options.method;
    return m_options.body || m_options.form ? QByteArray("POST") : QByteArray("GET");
}

Reqivo::RequestOptions Output::requestOptions() const
{
    Reqivo::RequestOptions request;
    request.headers = m_options.headers;
    if (m_options.body)
        request.body = Reqivo::Body::fromBytes(*m_options.body, m_options.bodyContentType);
    if (m_options.form)
        request.body = Reqivo::Body::fromMultipart(*m_options.form);
    request.stream = m_streamed;
    return request;
}

void Output::started(const Reqivo::Response &response)
{
    if (m_options.verbose) {
        for (const Reqivo::Response &hop : response.history())
            printResponseHead(hop);
        printResponseHead(response);
    }
    m_expected = response.expectedSize();
}

void Output::write(Reqivo::Response &response, const QByteArray &chunk)
{
    if (!m_sink.write(chunk)) {
        response.close();
        throw Reqivo::ReqivoError(
            u"cannot write %1: %2"_s.arg(m_sink.file ? m_sink.file->fileName() : u"stdout"_s,
                m_sink.file ? m_sink.file->errorString() : u"write error"_s));
    }
    m_length += chunk.size();
    m_progress.update(m_length, m_expected);
}

void Output::finished(const Reqivo::Response &response)
{
    QByteArray body;
    if (m_streamed) {
        m_progress.finish(m_length, m_expected);
    } else {
        body = response.body();
        m_length = body.size();
    }
    if (m_options.report) {
        writeStdout(reportResponse(m_target.argument, response, body, m_length) + '\n');
        std::fflush(stdout);
    }
}

void Output::failed(std::exception_ptr exception)
{
    if (m_streamed && m_length > 0)
        m_progress.finish(m_length, m_expected);
    const Reqivo::Error error = Reqivo::Error::fromException(exception);
    if (m_options.report) {
        writeStdout(reportError(m_target.argument, error) + '\n');
        std::fflush(stdout);
    } else {
        std::fflush(stdout);
        // The URL as typed, unless it holds a secret.
        const QString redacted = Reqivo::redactUrl(m_target.url);
        const QString shown = redacted == m_target.url.toString() ? m_target.argument : redacted;
        printErr(u"reqivo: %1: %2\n"_s.arg(shown, errorText(error)));
    }
}

} // namespace ReqivoCli
