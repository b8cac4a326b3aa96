// reqivo-demo: Reqivo's sans-I/O HTTP/1.1 response parser at work.
//
// The parser never touches a socket: the caller feeds it bytes as they arrive and pulls events
// out. Here the "network" is a handful of sample responses cut into small pieces, the way TCP
// may deliver them, and every event the parser produces is printed. The demo exits non-zero if
// any sample does not end the way it should.
#include <protocol/responseparser.h>

#include <Reqivo/reqivoglobal.h>

#include <QByteArray>
#include <QString>

#include <cstdio>

using Reqivo::Protocol::ResponseParser;

namespace {

struct Sample
{
    const char *title;
    const char *requestMethod;
    QByteArray wire;
    qsizetype pieceSize; // bytes per receiveData() call
    bool expectError;
};

// Shows bytes on one line: CR and LF made visible, other control bytes as \xNN.
QByteArray printable(QByteArrayView bytes)
{
    QByteArray out;
    for (char c : bytes) {
        if (c == '\r')
            out += "\\r";
        else if (c == '\n')
            out += "\\n";
        else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            out += "\\x" + QByteArray::number(static_cast<unsigned char>(c), 16).rightJustified(2, '0');
        else
            out += c;
    }
    return out;
}

void printFields(const char *label, const Reqivo::Headers &fields)
{
    for (const auto &field : fields)
        std::printf("      %s %s: %s\n", label, printable(field.name).constData(),
                    printable(field.value).constData());
}

// Feeds one sample to a parser piece by piece and prints the events. True when the sample
// ended as expected (a complete message, or an error for the malformed one).
bool run(const Sample &sample)
{
    std::printf("\n== %s\n   request method %s; %lld bytes, fed %lld at a time\n", sample.title,
                sample.requestMethod, static_cast<long long>(sample.wire.size()),
                static_cast<long long>(sample.pieceSize));
    ResponseParser parser;
    parser.setRequestMethod(sample.requestMethod);

    qsizetype fed = 0;
    bool eofSent = false;
    for (;;) {
        const ResponseParser::Event event = parser.nextEvent();
        switch (event.type) {
        case ResponseParser::EventType::NeedData:
            if (fed < sample.wire.size()) {
                const QByteArrayView piece =
                    QByteArrayView(sample.wire).sliced(fed).first(
                        qMin(sample.pieceSize, sample.wire.size() - fed));
                std::printf("   <- \"%s\"\n", printable(piece).constData());
                parser.receiveData(piece);
                fed += piece.size();
            } else if (!eofSent) {
                std::printf("   <- end of stream\n");
                parser.receiveEof();
                eofSent = true;
            } else {
                std::printf("   !! the parser wants more data after the end of the stream\n");
                return false;
            }
            break;
        case ResponseParser::EventType::Head: {
            const auto &head = parser.head();
            std::printf("   -> Head: HTTP/1.%d %d \"%s\"%s\n", head.versionMinor, head.status,
                        printable(head.reason).constData(),
                        head.isInterim() ? " (interim: the final response follows)" : "");
            printFields("field", head.headers);
            break;
        }
        case ResponseParser::EventType::Data:
            std::printf("   -> Data: %lld bytes \"%s\"\n",
                        static_cast<long long>(event.data.size()),
                        printable(event.data).constData());
            break;
        case ResponseParser::EventType::EndOfMessage:
            std::printf("   -> EndOfMessage: %lld body bytes\n",
                        static_cast<long long>(parser.bodyBytesReceived()));
            printFields("trailer", parser.trailers());
            std::printf("      connection reusable: %s\n", parser.isReusable() ? "yes" : "no");
            return !sample.expectError;
        case ResponseParser::EventType::Error:
            std::printf("   -> Error: %s: %s\n",
                        Reqivo::Protocol::parseErrorName(parser.error()).toUtf8().constData(),
                        parser.errorMessage().toUtf8().constData());
            std::printf("      (the connection must be closed)\n");
            return sample.expectError;
        case ResponseParser::EventType::Paused:
            std::printf("   -> Paused\n");
            return !sample.expectError;
        }
    }
}

} // namespace

int main()
{
    std::printf("Reqivo %s: the sans-I/O HTTP/1.1 response parser, fed sample responses in "
                "pieces\n", Reqivo::versionString());

    const Sample samples[] = {
        {"A response framed by Content-Length", "GET",
         "HTTP/1.1 200 OK\r\n"
         "Content-Type: text/plain\r\n"
         "Content-Length: 13\r\n"
         "\r\n"
         "Hello, world!",
         16, false},
        {"A chunked response with a chunk extension and trailers", "GET",
         "HTTP/1.1 200 OK\r\n"
         "Transfer-Encoding: chunked\r\n"
         "Trailer: Checksum\r\n"
         "\r\n"
         "7\r\nchunked\r\n"
         "1;note=ignored\r\n \r\n"
         "4\r\nbody\r\n"
         "0\r\n"
         "Checksum: 1234\r\n"
         "\r\n",
         9, false},
        {"An interim 100 Continue, then the final 201", "POST",
         "HTTP/1.1 100 Continue\r\n"
         "\r\n"
         "HTTP/1.1 201 Created\r\n"
         "Location: /items/42\r\n"
         "Content-Length: 2\r\n"
         "\r\n"
         "{}",
         12, false},
        {"A malformed response: Content-Length and Transfer-Encoding together "
         "(a request-smuggling pattern)",
         "GET",
         "HTTP/1.1 200 OK\r\n"
         "Content-Length: 5\r\n"
         "Transfer-Encoding: chunked\r\n"
         "\r\n"
         "5\r\nhello\r\n0\r\n\r\n",
         20, true},
    };

    int failed = 0;
    for (const Sample &sample : samples) {
        if (!run(sample)) {
            std::printf("   !! unexpected result\n");
            ++failed;
        }
    }
    std::printf("\n%s\n", failed ? "Some samples did not parse as expected."
                                 : "Every sample parsed as expected.");
    return failed ? 1 : 0;
}
