// reqivo-llmchat: a QML chat window (Main.qml) that streams replies token by token from an
// OpenAI-compatible /v1/chat/completions endpoint through `import Reqivo`'s EventSource.
//
//   reqivo-llmchat [ENDPOINT]   chat with ENDPOINT (default
//                               http://127.0.0.1:8080/v1/chat/completions, e.g. a local
//                               llama.cpp server; Ollama serves http://127.0.0.1:11434/v1/...)
//   reqivo-llmchat --self-test  serve a scripted stream from a server inside the app (127.0.0.1),
//                               drive the window with mouse clicks: send a prompt and compare
//                               the assembled reply, then stop a long reply with Stop; exit 0
//                               when all of it held (1 otherwise, or after 20 s)
#include "chatserver.h"

#include <QGuiApplication>
#include <QMouseEvent>
#include <QQmlApplicationEngine>
#include <QQuickItem>
#include <QQuickWindow>
#include <QTimer>

#include <cstdio>
#include <functional>
#include <memory>

namespace {

//! A left click in the middle of \a item, delivered to its window as the platform would.
void click(QQuickItem *item)
{
    QQuickWindow *window = item->window();
    const QPointF local = item->mapToScene(QPointF(item->width() / 2, item->height() / 2));
    const QPointF global = window->mapToGlobal(local);
    QMouseEvent press(
        QEvent::MouseButtonPress, local, global, Qt::LeftButton, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(window, &press);
    QMouseEvent release(
        QEvent::MouseButtonRelease, local, global, Qt::LeftButton, Qt::NoButton, Qt::NoModifier);
    QCoreApplication::sendEvent(window, &release);
}

//! The self-test: a list of steps, each polled until it says it is done; any failure exits 1.
class SelfTest : public QObject
{
public:
    SelfTest(QGuiApplication &app, QQuickWindow *window, LlmChat::ChatServer &server)
        : m_app(app)
        , m_window(window)
        , m_server(server)
    {
        m_steps = {
            [this] { return m_window->isExposed(); },
            [this] { return sendPrompt(QString::fromLatin1(firstPrompt)); },
            [this] { return firstReplyDone(); },
            [this] { return sendPrompt(QStringLiteral("count to 2000")); },
            [this] { return stopAfterSomeTokens(); },
            [this] { return stopped(); },
        };
        connect(&m_poll, &QTimer::timeout, this, &SelfTest::step);
        m_poll.start(5);
        QTimer::singleShot(20'000, this, [this] { fail(QStringLiteral("not done after 20 s")); });
    }

private:
    static constexpr const char *firstPrompt = "What does Reqivo stream?";
    static constexpr const char *apiKey = "sk-selftest";

    QQuickItem *item(const char *name) const
    {
        auto *found = m_window->findChild<QQuickItem *>(QString::fromLatin1(name));
        if (!found)
            std::printf("self-test: no item named %s\n", name);
        return found;
    }
    QString text(const char *property) const { return m_window->property(property).toString(); }
    void fail(const QString &why)
    {
        if (m_failed)
            return;
        m_failed = true;
        m_poll.stop();
        std::printf("self-test FAILED: %s\n", qPrintable(why));
        m_app.exit(1);
    }
    void step()
    {
        if (const QString error = text("errorText"); !error.isEmpty())
            return fail(error);
        while (!m_failed && m_next < m_steps.size() && m_steps[m_next]())
            ++m_next;
        if (m_failed)
            return;
        if (m_next == m_steps.size()) {
            m_poll.stop();
            std::printf("self-test passed\n");
            m_app.exit(0);
        }
    }

    // Types into the fields (as a user would: the items' text) and clicks Send.
    bool sendPrompt(const QString &prompt)
    {
        QQuickItem *endpoint = item("endpointField");
        QQuickItem *key = item("apiKeyField");
        QQuickItem *field = item("promptField");
        QQuickItem *send = item("sendButton");
        if (!endpoint || !key || !field || !send) {
            fail(QStringLiteral("the window lacks its fields"));
            return false;
        }
        endpoint->setProperty("text", m_server.endpoint().toString());
        key->setProperty("text", QString::fromLatin1(apiKey));
        field->setProperty("text", prompt);
        m_messagesBefore = m_window->property("messageCount").toInt();
        click(send);
        if (m_window->property("messageCount").toInt() != m_messagesBefore + 2) {
            fail(QStringLiteral("clicking Send did not send \"%1\"").arg(prompt));
            return false;
        }
        std::printf("sent: %s\n", qPrintable(prompt));
        return true;
    }

    bool firstReplyDone()
    {
        if (m_window->property("streaming").toBool() || m_server.completedStreams() < 1)
            return false;
        const QStringList tokens = LlmChat::ChatServer::tokensFor(QString::fromLatin1(firstPrompt));
        const QString reply = text("reply");
        std::printf("reply: %s\n", qPrintable(reply));
        if (reply != tokens.join(QString()))
            fail(QStringLiteral("the reply differs from the one streamed"));
        else if (m_window->property("tokens").toInt() != tokens.size())
            fail(QStringLiteral("%1 tokens shown, %2 streamed")
                     .arg(m_window->property("tokens").toInt())
                     .arg(tokens.size()));
        else if (m_server.lastAuthorization() != QByteArray("Bearer ") + apiKey)
            fail(QStringLiteral("the API key did not arrive as a bearer token"));
        else if (m_server.lastRequest().value(QStringLiteral("stream")) != QJsonValue(true))
            fail(QStringLiteral("the request did not ask for a stream"));
        return true;
    }

    bool stopAfterSomeTokens()
    {
        if (m_window->property("tokens").toInt() < 5)
            return false;
        QQuickItem *stop = item("stopButton");
        if (!stop) {
            fail(QStringLiteral("no Stop button"));
            return false;
        }
        click(stop);
        // close() takes effect at once: nothing is streaming any more.
        if (m_window->property("streaming").toBool())
            fail(QStringLiteral("Stop did not end the stream"));
        m_stoppedAt = text("reply");
        return true;
    }

    bool stopped()
    {
        if (m_server.cutStreams() < 1)
            return false; // the server has not seen the connection close yet
        const QString full
            = LlmChat::ChatServer::tokensFor(QStringLiteral("count to 2000")).join(QString());
        std::printf("stopped after: %s\n", qPrintable(m_stoppedAt));
        const QJsonArray history
            = m_server.lastRequest().value(QStringLiteral("messages")).toArray();
        if (text("reply") != m_stoppedAt)
            fail(QStringLiteral("tokens arrived after Stop"));
        else if (!full.startsWith(m_stoppedAt) || m_stoppedAt.size() >= full.size())
            fail(QStringLiteral("the stopped reply is not a part of the streamed one"));
        else if (m_server.completedStreams() != 1)
            fail(QStringLiteral("the long reply was streamed to its end"));
        else if (history.size() != 3
            || history[1].toObject().value(QStringLiteral("content")).toString()
                != LlmChat::ChatServer::tokensFor(QString::fromLatin1(firstPrompt)).join(QString()))
            fail(QStringLiteral("the conversation was not sent with the second prompt"));
        return true;
    }

    QGuiApplication &m_app;
    QQuickWindow *m_window;
    LlmChat::ChatServer &m_server;
    QList<std::function<bool()>> m_steps;
    qsizetype m_next = 0;
    bool m_failed = false;
    QTimer m_poll;
    int m_messagesBefore = 0;
    QString m_stoppedAt;
};

} // namespace

int main(int argc, char *argv[])
{
    QGuiApplication app(argc, argv);
    const QStringList args = app.arguments().mid(1);
    const bool self = args.contains(QStringLiteral("--self-test"));
    if (args.size() > 1
        || (!self && !args.isEmpty() && args.first().startsWith(QLatin1Char('-')))) {
        std::fprintf(stderr, "usage: %s [ENDPOINT] | --self-test\n", argv[0]);
        return 2;
    }
    if (self && qEnvironmentVariableIsEmpty("QT_QUICK_BACKEND"))
        QQuickWindow::setGraphicsApi(QSGRendererInterface::Software); // no GPU under offscreen

    LlmChat::ChatServer server;
    if (self && !server.listen())
        return 1;
    const QUrl endpoint = self ? server.endpoint()
        : args.isEmpty()       ? QUrl(QStringLiteral("http://127.0.0.1:8080/v1/chat/completions"))
                               : QUrl::fromUserInput(args.first());

    QQmlApplicationEngine engine;
#ifdef REQIVO_QML_IMPORT_DIR
    engine.addImportPath(QStringLiteral(REQIVO_QML_IMPORT_DIR)); // where `import Reqivo` lives
#endif
    engine.setInitialProperties({{QStringLiteral("endpoint"), endpoint}});
    engine.load(QUrl(QStringLiteral("qrc:/Main.qml")));
    if (engine.rootObjects().isEmpty())
        return 1;
    auto *window = qobject_cast<QQuickWindow *>(engine.rootObjects().first());
    if (!window)
        return 1;
    std::unique_ptr<SelfTest> test;
    if (self)
        test = std::make_unique<SelfTest>(app, window, server);
    return app.exec();
}
