# reqivo_add_http2_rerun(<test>): registers the test binary <test> a second time, as <test>_h2,
# with REQIVO_TEST_HTTP2=1 in its environment: the suite runs again over HTTP/2 against the
# peers' HTTP/2 listeners (tests/support/http2mode.h). The re-run has the same labels (plus
# "http2"), timeout, fixtures and resource locks, so call it after everything that sets them.
function(reqivo_add_http2_rerun test)
    add_test(NAME ${test}_h2 COMMAND ${test})
    foreach(property LABELS TIMEOUT FIXTURES_REQUIRED RESOURCE_LOCK ENVIRONMENT)
        get_test_property(${test} ${property} value)
        if(value)
            set_tests_properties(${test}_h2 PROPERTIES ${property} "${value}")
        endif()
    endforeach()
    set_property(TEST ${test}_h2 APPEND PROPERTY ENVIRONMENT "REQIVO_TEST_HTTP2=1")
    set_property(TEST ${test}_h2 APPEND PROPERTY LABELS http2)
endfunction()
