// The --report jsonl lines: one compact JSON object per requested URL.
//
// Keys come out in the order the issue specifies (url, ok, status, ...), which QJsonObject
// cannot do since it sorts its keys; every value is still encoded by QJsonDocument, so escaping
// and number formatting are Qt's.
#pragma once

#include <Reqivo/errors.h>
#include <Reqivo/response.h>

#include <QByteArray>
#include <QJsonValue>
#include <QString>

#include <initializer_list>
#include <utility>

namespace ReqivoCli {

//! {"url":…,"ok":true,"status":…,…,"attempts":N,"timings":{"dnsMs":…,…}} for a response. \a body is
//! the decoded body as it goes in the report (empty when it was written to a file); \a bodyLength
//! is its full length.
QByteArray reportResponse(const QString &url, const Reqivo::Response &response,
    const QByteArray &body, qint64 bodyLength);

//! {"url":…,"ok":false,"error":{"type":…,"message":…},"attempts":N}
QByteArray reportError(const QString &url, const Reqivo::Error &error);

//! One JSON value, encoded by QJsonDocument (escaping and number formatting are Qt's).
QByteArray encode(const QJsonValue &value);
//! An object whose members keep the order given; the values are already encoded JSON.
QByteArray object(std::initializer_list<std::pair<QLatin1StringView, QByteArray>> members);

//! Header bytes as text: UTF-8 when they are valid UTF-8, else Latin-1 (every byte kept).
QString headerText(QByteArrayView bytes);

} // namespace ReqivoCli
