// MockServer's HTTP/1.1 connection: parses requests (Content-Length or chunked bodies, keep-alive,
// pipelining answered in order), has the core record and answer them, and writes the answer with
// its faults. Hands the connection over to the HTTP/2 handler (a cleartext connection that starts
// with the HTTP/2 preface, when the protocols allow it) or to the WebSocket player (a response
// with a WebSocket script). Follows the lifetime rules of mockserver_p.h.
#pragma once

#include "mockserver_p.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <chrono>

class QTcpSocket;

namespace Reqivo::Testing::detail {

//! How far parseHttp1Request() got.
enum class Http1Parse { Complete, NeedMore, Bad };

//! Parses one request off the front of \a buffer (removing it when complete) into \a out:
//! method, target, httpVersion, headers, head, body (Content-Length or chunked), chunked; the
//! caller fills the rest. Bad: \a badStatus says the answer (400, 431). \a lenient: header
//! lines without a colon are skipped and the request line is not checked (scripted mode takes
//! what a test's client sends). \a continueWanted is set when the head is complete, asks for
//! "100-continue" and the body is not all there.
Http1Parse parseHttp1Request(
    QByteArray &buffer, RecordedRequest &out, int &badStatus, bool lenient, bool *continueWanted);

class MockHttp1Connection : public QObject
{
public:
    MockHttp1Connection(MockServerCore &core, QTcpSocket *socket, MockConnectionInfo info,
        QByteArray alreadyRead, QObject *parent);
    ~MockHttp1Connection() override;

private:
    struct Piece
    {
        std::chrono::milliseconds delay {0};
        QByteArray bytes;
    };

    void onReadyRead();
    void process();
    bool startsAsHttp2();
    void serve(const RecordedRequest &request, const MockResponse &response);
    void play();
    bool writePiece(const QByteArray &bytes);
    void responseDone();
    void reject(int status);
    void resetConnection();
    void finish();

    MockServerCore &m_core;
    QPointer<QTcpSocket> m_socket;
    MockConnectionInfo m_info;
    QByteArray m_buffer; // received, not yet parsed
    int m_requests = 0; // requests parsed on this connection
    bool m_busy = false; // answering a request (later ones wait in m_buffer)
    bool m_finished = false;
    bool m_continueSent = false; // "100 Continue" written for the request being received
    bool m_sawBytes = false; // anything received yet (the HTTP/2 preface check)

    // The response being written: pieces in order, each after its delay.
    QList<Piece> m_pieces;
    qint64 m_written = 0; // bytes of this response written
    qint64 m_cap = -1; // disconnect after this many bytes, -1 for none
    bool m_keepOpen = false; // an event stream that stays open
    bool m_closeAfter = false; // close once written (Connection: close)
    QTimer m_timer;
};

} // namespace Reqivo::Testing::detail
