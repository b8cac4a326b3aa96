// Common definitions of the Reqivo public API: the export macro and the library version.
#pragma once

#include <Reqivo/reqivo_export.h>
#include <QtGlobal>

#define REQIVO_VERSION_STRING "0.1.0"

//! Reqivo for Qt: an async-first HTTP/1.1 and WebSocket client.
//!
//! Everything public lives in this namespace. The guides in docs/ explain the four calling
//! styles (co_await, blocking, signals and slots, QML); docs/cookbook.md shows whole tasks.
namespace Reqivo {
//! The library's version, for "User-Agent" and diagnostics.
inline constexpr const char *versionString() noexcept { return REQIVO_VERSION_STRING; }
} // namespace Reqivo
