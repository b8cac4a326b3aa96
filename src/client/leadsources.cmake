# Client-layer sources of the session core (the rest are listed in CMakeLists.txt).
set(CLIENT_LEAD_SOURCES
    asyncsession.cpp asyncsession_p.h
    reply.cpp
    asyncreqivo.cpp
    ../../include/Reqivo/reply.h
    asyncrequest.cpp
    exchange.cpp exchange_p.h
    bodystream_p.h
    response.cpp
    ../../include/Reqivo/asyncsession.h
    ../../include/Reqivo/asyncrequest.h
    ../../include/Reqivo/response.h
    ../../include/Reqivo/requestoptions.h)
