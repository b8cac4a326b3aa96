// What MockServer (mockserver.cpp) reaches inside a ScriptedConnection: its state, and making
// one.
#pragma once

#include <Reqivo/Testing/scriptedconnection.h>

#include <QByteArray>
#include <QPointer>
#include <QTcpSocket>

namespace Reqivo::Testing {

struct ScriptedConnection::Private
{
    QPointer<QTcpSocket> socket;
    int index = 0;
    bool tls = false;
    bool flushEachWrite = false;
    bool open = true;
    int requests = 0; // requests parsed on this connection
    QByteArray buffer; // unparsed request bytes
    QByteArray received; // everything received
};

namespace detail {

struct ScriptedAccess
{
    static ScriptedConnection *create(QTcpSocket *socket, int index, bool tls, QObject *parent)
    {
        return new ScriptedConnection(socket, index, tls, parent);
    }
    static ScriptedConnection::Private &state(ScriptedConnection &connection)
    {
        return *connection.d;
    }
};

} // namespace detail
} // namespace Reqivo::Testing
