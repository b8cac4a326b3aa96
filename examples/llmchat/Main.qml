// A chat window for an OpenAI-compatible /v1/chat/completions endpoint: the reply is streamed
// token by token through Reqivo's EventSource (POST, a JSON body with stream: true, events
// {"choices":[{"delta":{"content":"..."}}]} until "data: [DONE]"), and Stop ends it at once.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Reqivo

ApplicationWindow {
    id: root
    required property url endpoint
    width: 760; height: 560; visible: true
    title: "Reqivo LLM chat"

    // Read by the --self-test driver in main.cpp.
    readonly property bool streaming: stream.readyState !== EventSource.Closed
    readonly property int messageCount: messages.count
    property string reply        // the assistant message being streamed (or the last one)
    property int tokens: 0       // content pieces received for it
    property string errorText

    function send() {
        const text = prompt.text.trim()
        if (text.length === 0 || streaming)
            return
        messages.append({role: "user", content: text})
        const history = []
        for (let i = 0; i < messages.count; ++i)
            history.push({role: messages.get(i).role, content: messages.get(i).content})
        messages.append({role: "assistant", content: ""})
        reply = ""
        tokens = 0
        errorText = ""
        prompt.text = ""
        stream.body = {model: model.text, stream: true, messages: history}
        stream.open()
    }

    function append(piece) {
        reply += piece
        tokens += 1
        messages.setProperty(messages.count - 1, "content", reply)
        view.positionViewAtEnd()
    }

    ListModel { id: messages } // {role: "user" | "assistant", content}

    EventSource {
        id: stream
        url: endpointField.text
        method: "POST"
        bearerToken: apiKey.text   // empty: no Authorization (a local server needs none)
        until: "[DONE]"            // the end of an OpenAI stream; it is not delivered
        onMessage: (event) => {
            let chunk
            try {
                chunk = JSON.parse(event.data)
            } catch (e) {
                root.errorText = "not a JSON chunk: " + event.data
                return
            }
            const choice = chunk.choices && chunk.choices[0]
            const piece = choice && choice.delta && choice.delta.content
            if (piece)
                root.append(piece)
        }
        onError: (error) => root.errorText = error.type + ": " + error.message
    }

    header: ToolBar {
        GridLayout {
            anchors.fill: parent
            anchors.margins: 6
            columns: 6
            Label { text: "Endpoint" }
            TextField {
                id: endpointField
                objectName: "endpointField"
                Layout.fillWidth: true
                text: root.endpoint
                selectByMouse: true
            }
            Label { text: "Model" }
            TextField { id: model; objectName: "modelField"; text: "default"; implicitWidth: 110 }
            Label { text: "API key" }
            TextField {
                id: apiKey
                objectName: "apiKeyField"
                implicitWidth: 150
                placeholderText: "optional"
                echoMode: TextInput.Password
            }
        }
    }

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: 8
        spacing: 6

        ListView {
            id: view
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            spacing: 6
            model: messages
            delegate: Rectangle {
                required property string role
                required property string content
                width: ListView.view.width
                height: body.implicitHeight + 16
                radius: 6
                color: role === "user" ? "#e3ecfa" : "#f3f3f3"
                Label {
                    id: body
                    x: 8; y: 8
                    width: parent.width - 16
                    wrapMode: Text.Wrap
                    text: (role === "user" ? "You: " : "Assistant: ") + content
                }
            }
        }

        Label {
            Layout.fillWidth: true
            elide: Text.ElideRight
            color: root.errorText ? "#a00" : "#555"
            text: root.errorText ? root.errorText : (root.streaming ? "Streaming…" : " ")
        }

        RowLayout {
            Layout.fillWidth: true
            TextField {
                id: prompt
                objectName: "promptField"
                Layout.fillWidth: true
                placeholderText: "Ask something…"
                onAccepted: root.send()
            }
            Button {
                objectName: "sendButton"
                text: "Send"
                enabled: !root.streaming && prompt.text.trim().length > 0
                onClicked: root.send()
            }
            Button {
                objectName: "stopButton"
                text: "Stop"
                enabled: root.streaming
                onClicked: stream.close()
            }
        }
    }
}
