// QML: HttpClient from `import Reqivo`; each request returns a task with then().
import QtQuick
import Reqivo

Window {
    required property url url
    width: 480; height: 240; visible: true
    title: "Reqivo QML sample"

    HttpClient { id: api; timeout: 5000 }

    Text {
        id: result
        anchors.fill: parent; anchors.margins: 12; wrapMode: Text.Wrap
        text: api.loading ? "Loading…" : ""
    }

    Component.onCompleted: api.get(url).then(
        r => { result.text = r.status + " " + r.reason + "\n" + r.text; console.log(r.status, r.reason) },
        e => { result.text = e.type + ": " + e.message; console.log(e.type, e.message) })
}
