# Smoke test of switchboard_history_bench (ctest bench.history_smoke): runs both modes with a handful of
# messages and checks the JSON summary's fields and counts. Throughput figures are only checked to be present.
# Usage: cmake -DBENCH=<tool> -DDATA_DIR=<scratch dir> -P smoke.cmake
file(REMOVE_RECURSE ${DATA_DIR})

function(run_bench out_var)
  execute_process(COMMAND ${BENCH} ${ARGN} --data-dir ${DATA_DIR}
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "'${BENCH} ${ARGN}' exited with ${rc}\nstdout:\n${out}\nstderr:\n${err}")
  endif()
  set(${out_var} "${out}" PARENT_SCOPE)
endfunction()

function(expect_positive json)
  string(JSON v ERROR_VARIABLE e GET "${json}" ${ARGN})
  if(e OR NOT v GREATER 0)
    message(FATAL_ERROR "expected a positive number at '${ARGN}', got '${v}' ${e}\n${json}")
  endif()
endfunction()

function(expect_equal json expected)
  string(JSON v ERROR_VARIABLE e GET "${json}" ${ARGN})
  if(e OR NOT v STREQUAL "${expected}")
    message(FATAL_ERROR "expected '${expected}' at '${ARGN}', got '${v}' ${e}\n${json}")
  endif()
endfunction()

foreach(mode room store)
  run_bench(json --mode ${mode} --messages 240 --rooms 3 --senders 2 --window 2 --members 3 --payload 40)
  expect_equal("${json}" ${mode} mode)
  expect_equal("${json}" 240 messages)
  expect_equal("${json}" 12 in_flight)
  expect_positive("${json}" ratio_sqlite_to_memory)
  foreach(backend memory sqlite)
    expect_positive("${json}" ${backend} messages_per_s)
    expect_positive("${json}" ${backend} seconds)
    expect_equal("${json}" 0 ${backend} errors)
    expect_positive("${json}" ${backend} ack_latency_ms p99)
    if(mode STREQUAL "room")
      # Every acknowledged message was broadcast to each of the 3 members of its room.
      expect_equal("${json}" 720 ${backend} frames_delivered)
    endif()
  endforeach()
  # Group commit statistics exist for the SQLite store only.
  expect_positive("${json}" sqlite commits)
  expect_positive("${json}" sqlite avg_batch)
  string(JSON has_commits ERROR_VARIABLE no_commits GET "${json}" memory commits)
  if(NOT no_commits)
    message(FATAL_ERROR "the memory store reported commits: ${json}")
  endif()
endforeach()

# Bad input is refused with a usage message, not run.
execute_process(COMMAND ${BENCH} --messages many OUTPUT_QUIET ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 2 OR NOT err MATCHES "non-negative integer")
  message(FATAL_ERROR "a bad --messages value gave exit ${rc}: ${err}")
endif()
# The tool removes its database files after each run.
file(GLOB leftovers ${DATA_DIR}/*.db*)
if(leftovers)
  message(FATAL_ERROR "database files left behind: ${leftovers}")
endif()
file(REMOVE_RECURSE ${DATA_DIR})
