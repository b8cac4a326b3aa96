// The RFC 6455 codec of src/protocol (websocketcodec.h) compiled into the testing library too,
// for the WebSocket script player (mockwebsocket.cpp) in its server role: ReqivoTesting is an
// installed library on Reqivo's public API, and the codec is not part of it. With the project's
// hidden visibility this copy stays private to ReqivoTesting.
#include "protocol/websocketcodec.cpp" // NOLINT(bugprone-suspicious-include)
