// A call's outcome as one value to assert on: the response, or the error it threw. Shared by the
// session (co_await) and sync (blocking) integration helpers, which fill it in their own way
// (sessiontest.h, synctest.h) and assert on it through their own macros, built on the two below.
//
// Errors are compared by their most specific class name ("ReadTimeout"), so a failure message
// says which exception came instead of the expected one.
#pragma once

#include <Reqivo/errors.h>
#include <Reqivo/response.h>

#include <QString>

#include <chrono>

namespace ReqivoTest {

//! A request's outcome: a response, or the error it threw.
struct Outcome
{
    Reqivo::Response response;
    Reqivo::Error error;
    std::chrono::milliseconds took {0};

    bool ok() const { return error.isNull(); }
    //! "ReadTimeout" or "Response 200", for failure messages.
    QString describe() const
    {
        return ok() ? QStringLiteral("Response %1").arg(response.status()) : error.toString();
    }
};

} // namespace ReqivoTest

// Each macro evaluates its outcome once, and asserts with the VERIFY2 and COMPARE macros it is
// given: QVERIFY2/QCOMPARE in plain test functions, CO_VERIFY2/CO_COMPARE in coroutines.

//! The outcome is a response (not an error); says which error it was otherwise.
#define REQIVO_EXPECT_OK_WITH(VERIFY2, outcome)                                                    \
    do {                                                                                           \
        const auto &o_ = (outcome);                                                                \
        VERIFY2(o_.ok(), qPrintable(QStringLiteral("expected a response, got ") + o_.describe())); \
    } while (false)

//! The outcome is an error of exactly the class \a className ("ReadTimeout").
#define REQIVO_EXPECT_ERROR_WITH(VERIFY2, COMPARE, outcome, className)                             \
    do {                                                                                           \
        const auto &o_ = (outcome);                                                                \
        VERIFY2(!o_.ok(),                                                                          \
            qPrintable(QStringLiteral("expected %1, got %2")                                       \
                           .arg(QStringLiteral(className), o_.describe())));                       \
        COMPARE(o_.error.typeName(), QStringLiteral(className));                                   \
    } while (false)
