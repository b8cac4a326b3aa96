// The fixed prelude of every C++ block compiled from the documentation (docs/README.md, "Code
// blocks are compiled"). It holds Qt's and the standard library's headers only; Reqivo's come
// from the block itself, or, for a block that includes none, every public header.
#pragma once

#include <QtCore>
#include <QtNetwork>
#include <QtWidgets>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
