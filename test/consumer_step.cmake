# Runs one step of a consumer check; a failure ends the script with "consumer: WHAT failed".
function(consumer_step what)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
    if(rc)
        message(FATAL_ERROR "consumer: ${what} failed")
    endif()
endfunction()
