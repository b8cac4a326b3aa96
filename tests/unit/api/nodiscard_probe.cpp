// Compiled by NodiscardProbe.cmake (the api_nodiscard test), never built into a program.
//
// Each line marked DISCARDED drops the task of a coroutine-returning public function, the
// mistake [[nodiscard]] exists for: `r.readChunk();` in blocking code looks like a read but
// does nothing the caller waits for. With -Werror=unused-result every such line must be an
// error, and the test counts them. With -DREQIVO_PROBE_AWAITED the same calls are awaited
// instead and the file must compile cleanly (so the errors come from the attribute, not from
// a broken include or a typo).
#include <Reqivo/AsyncEventSource>
#include <Reqivo/Reqivo>

#ifdef REQIVO_PROBE_AWAITED
#define PROBE(call) (void)co_await call
#else
#define PROBE(call) call
#endif

using Reqivo::AsyncConnection;
using Reqivo::AsyncConnectionPool;
using Reqivo::AsyncReqivo;
using Reqivo::AsyncRequest;
using Reqivo::AsyncSession;
using Reqivo::Body;
using Reqivo::Endpoint;
using Reqivo::Response;

QCoro::Task<void> probe(AsyncSession &s, AsyncReqivo &api, Response &r, AsyncConnection &c,
    AsyncConnectionPool &pool, Reqivo::AsyncEventSource &events)
{
    const QUrl u;
    const Endpoint e;
    const std::chrono::milliseconds t(1);
    PROBE(s.request("GET", u)); // DISCARDED
    PROBE(s.get(u)); // DISCARDED
    PROBE(s.head(u)); // DISCARDED
    PROBE(s.options(u)); // DISCARDED
    PROBE(s.deleteResource(u)); // DISCARDED
    PROBE(s.post(u)); // DISCARDED
    PROBE(s.put(u)); // DISCARDED
    PROBE(s.patch(u)); // DISCARDED
    PROBE(s.post(u, Body())); // DISCARDED
    PROBE(s.put(u, Body())); // DISCARDED
    PROBE(s.patch(u, Body())); // DISCARDED
    PROBE(api.request("GET", u)); // DISCARDED
    PROBE(api.get(u)); // DISCARDED
    PROBE(api.head(u)); // DISCARDED
    PROBE(api.options(u)); // DISCARDED
    PROBE(api.deleteResource(u)); // DISCARDED
    PROBE(api.post(u)); // DISCARDED
    PROBE(api.put(u)); // DISCARDED
    PROBE(api.patch(u)); // DISCARDED
    PROBE(AsyncRequest::send("GET", u)); // DISCARDED
    PROBE(AsyncRequest::get(u)); // DISCARDED
    PROBE(AsyncRequest::head(u)); // DISCARDED
    PROBE(AsyncRequest::options(u)); // DISCARDED
    PROBE(AsyncRequest::deleteResource(u)); // DISCARDED
    PROBE(AsyncRequest::post(u, Body())); // DISCARDED
    PROBE(AsyncRequest::put(u, Body())); // DISCARDED
    PROBE(AsyncRequest::patch(u, Body())); // DISCARDED
    PROBE(r.readChunk()); // DISCARDED
    PROBE(r.readAll()); // DISCARDED
    PROBE(c.connectToHost(e, t)); // DISCARDED
    PROBE(c.write(QByteArray(), t)); // DISCARDED
    PROBE(c.read(t)); // DISCARDED
    PROBE(pool.acquire(e, t, t)); // DISCARDED
    PROBE(pool.connectFresh(e, t, t)); // DISCARDED
    PROBE(Reqivo::whenAll(std::vector<QCoro::Task<int>>())); // DISCARDED
    PROBE(Reqivo::whenAll(std::vector<QCoro::Task<void>>())); // DISCARDED
    PROBE(events.next()); // DISCARDED
    PROBE(events.next(t)); // DISCARDED
#ifndef REQIVO_PROBE_AWAITED
    r.chunks(); // DISCARDED
    events.events(); // DISCARDED
#endif
}
