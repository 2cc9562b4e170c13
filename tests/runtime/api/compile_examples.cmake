# Compiles every examples/mlir/*.mlir into OUT/<name>.rcx with raycc.
file(MAKE_DIRECTORY ${OUT})
file(GLOB examples ${SRC}/examples/mlir/*.mlir)
foreach(example ${examples})
  get_filename_component(stem ${example} NAME_WE)
  execute_process(COMMAND ${RAYCC} compile ${example} --cluster=${SRC}/examples/clusters/lab.json
                          -o ${OUT}/${stem}.rcx RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "raycc compile ${example} failed (${rc})")
  endif()
endforeach()

# A graph program in the DSL with an actor input (built with the host compiler).
execute_process(COMMAND ${RAYCC} compile ${SRC}/tests/runtime/api/Inputs/actor_input.cc
                        -o ${OUT}/actor_input.rcx RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "raycc compile actor_input.cc failed (${rc})")
endif()

# A hand-written plan that waits on a graph input.
execute_process(COMMAND ${RAYCC} compile ${SRC}/tests/runtime/api/Inputs/wait_input.mlir
                        -o ${OUT}/wait_input.rcx RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "raycc compile wait_input.mlir failed (${rc})")
endif()
