// The steps of reqivo-demo's tour, one coroutine each (tour.cpp: HTTP, tourqml.cpp: QML).
#pragma once

#include <QCoro/QCoroTask>

#include <QString>
#include <QUrl>

#include <chrono>
#include <functional>

namespace Examples {
class LoopbackServer;
class WsEchoServer;
} // namespace Examples

namespace Demo {

//! Runs every step against the embedded servers; returns how many failed.
QCoro::Task<int> runTour(Examples::LoopbackServer &http, Examples::WsEchoServer &ws);

//! The QML step: an inline snippet with `import Reqivo` GETs \a url. Empty when it worked,
//! else why not; \a shown gets what the snippet produced.
QCoro::Task<QString> qmlGet(QUrl baseUrl, QString path, QString *shown);

//! Resumes once \a done() holds (polling the event loop); false after \a timeout.
QCoro::Task<bool> waitUntil(std::function<bool()> done, std::chrono::milliseconds timeout);

} // namespace Demo
