# Compiles each public header alone (syntax only): every header includes what it uses.
# cmake -DINCLUDE_DIR= -DCXX= -DWORK= -DLAYER=<folder of include/asioctx, or top> -P
# One run per folder, so that ctest runs them side by side; top is asioctx.hpp and the
# headers directly in include/asioctx.
if(LAYER STREQUAL "top")
    file(GLOB headers RELATIVE ${INCLUDE_DIR} ${INCLUDE_DIR}/asioctx.hpp ${INCLUDE_DIR}/asioctx/*.hpp)
else()
    file(GLOB headers RELATIVE ${INCLUDE_DIR} ${INCLUDE_DIR}/asioctx/${LAYER}/*.hpp)
endif()
if(NOT headers)
    message(FATAL_ERROR "headers (${LAYER}): no header in that folder")
endif()
file(MAKE_DIRECTORY ${WORK})
set(failed "")
foreach(h IN LISTS headers)
    string(MAKE_C_IDENTIFIER ${h} name)
    set(tu ${WORK}/${name}.cpp)
    # Twice: the include guard must hold too.
    file(WRITE ${tu} "#include <${h}>\n#include <${h}>\n")
    execute_process(COMMAND ${CXX} -std=c++20 -fsyntax-only -Wall -Wextra -Werror -I${INCLUDE_DIR} ${tu}
        RESULT_VARIABLE rc ERROR_VARIABLE err)
    if(rc)
        message("${h}: does not compile alone\n${err}")
        list(APPEND failed ${h})
    endif()
endforeach()
list(LENGTH headers total)
if(failed)
    message(FATAL_ERROR "headers (${LAYER}): ${failed} of ${total} do not compile alone")
endif()
message("headers (${LAYER}): all ${total} compile alone")
