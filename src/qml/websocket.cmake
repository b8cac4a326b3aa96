# The QML WebSocket type (WebSocket in `import Reqivo`), compiled into the Reqivo QML module by
# src/qml/CMakeLists.txt. It uses only the public Reqivo API plus the module's own helpers.
set(REQIVO_QML_WEBSOCKET_SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/qmlwebsocket.cpp
    ${CMAKE_CURRENT_LIST_DIR}/qmlwebsocket.h)
