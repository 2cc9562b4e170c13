# Use ccache for C, C++ and CUDA when it is installed.
find_program(RAYCC_CCACHE ccache)
if(RAYCC_CCACHE)
  message(STATUS "raycc: using ccache (${RAYCC_CCACHE})")
  set(CMAKE_C_COMPILER_LAUNCHER ${RAYCC_CCACHE})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${RAYCC_CCACHE})
  set(CMAKE_CUDA_COMPILER_LAUNCHER ${RAYCC_CCACHE})
endif()
