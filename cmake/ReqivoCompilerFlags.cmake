# Warning and sanitizer flags shared by every target of the project (not exported to users).
add_library(reqivo_build_flags INTERFACE)
target_compile_options(reqivo_build_flags INTERFACE -Wall -Wextra -pedantic
    $<$<BOOL:${REQIVO_WERROR}>:-Werror>)
# QT_NO_KEYWORDS keeps `signals`/`slots`/`emit` macros out of the way of coroutine code and
# of users' own macros; QT_NO_CAST_FROM_ASCII makes every bytes-to-text conversion explicit.
target_compile_definitions(reqivo_build_flags INTERFACE QT_NO_KEYWORDS QT_NO_CAST_FROM_ASCII
    QT_NO_URL_CAST_FROM_STRING QT_NO_NARROWING_CONVERSIONS_IN_CONNECT)

if(REQIVO_SANITIZE)
    # Applied globally so that tests, helpers and the library agree on the runtime.
    add_compile_options(-fsanitize=${REQIVO_SANITIZE} -fno-omit-frame-pointer
        -fno-sanitize-recover=all)
    add_link_options(-fsanitize=${REQIVO_SANITIZE})
endif()
