// A small REST browser: the list comes from GET <baseUrl>/items, a click shows GET /items/<id>.
import QtQuick
import Reqivo

Window {
    id: root
    required property url baseUrl
    width: 720; height: 420; visible: true
    title: "Reqivo REST browser"

    // Read by the --self-test driver in main.cpp.
    readonly property int rows: items.count
    property var detail: null
    readonly property string detailTitle: detail ? detail.title : ""
    property string errorText

    function open(id) {
        api.get("/items/" + id).then(
            r => { if (r.ok) detail = r.json; else errorText = "HTTP " + r.status },
            e => errorText = e.type + ": " + e.message)
    }
    function reload() {
        items.clear()
        api.get("/items").then(
            r => { if (r.ok) r.json.forEach(item => items.append({bookId: item.id, title: item.title, author: item.author})); else errorText = "HTTP " + r.status },
            e => errorText = e.type + ": " + e.message)
    }

    HttpClient { id: api; baseUrl: root.baseUrl; timeout: 5000 }
    ListModel { id: items }
    Component.onCompleted: reload()

    Row {
        anchors.fill: parent; anchors.margins: 8; spacing: 8

        ListView {
            id: list
            width: parent.width * 0.45; height: parent.height; clip: true
            model: items
            delegate: Rectangle {
                required property int index
                required property int bookId
                required property string title
                required property string author
                width: list.width; height: 48
                color: ListView.isCurrentItem ? "#dde7f7" : (index % 2 ? "#f4f4f4" : "white")
                Column {
                    anchors.verticalCenter: parent.verticalCenter; x: 8
                    Text { text: title; font.bold: true }
                    Text { text: author; color: "#555" }
                }
                MouseArea { anchors.fill: parent; onClicked: { list.currentIndex = index; root.open(bookId) } }
            }
        }

        Column {
            width: parent.width * 0.55 - 8; spacing: 6
            Text { text: api.loading ? "Loading…" : root.errorText; color: "#a00" }
            Text { text: root.detail ? root.detail.title : "Pick a book"; font.pixelSize: 20; wrapMode: Text.Wrap; width: parent.width }
            Text { text: root.detail ? "by " + root.detail.author : "" }
            Text { text: root.detail ? root.detail.summary : ""; wrapMode: Text.Wrap; width: parent.width }
        }
    }
}
