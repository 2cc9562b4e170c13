# Embeds the viewer's files (viewer.html, viewer.js, viewer.css) into the
# raycc binary as C++ character arrays, so `raycc viz` reads nothing at run
# time. Byte arrays rather than raw strings: no delimiter can clash with the
# files' text.
#
#   cmake "-DINPUTS=a/viewer.html;a/viewer.js" -DOUTPUT=b/raycc_viz_assets \
#         -P embed_assets.cmake
#
# writes OUTPUT.h, declaring one `extern const char kViz<Name>[];` per input,
# NUL-terminated, where <Name> is the file name in CamelCase (viewer.html:
# kVizViewerHtml), and OUTPUT.cpp defining them. Unchanged outputs keep their
# timestamps, so nothing is recompiled for nothing.
cmake_minimum_required(VERSION 3.21)
if(NOT INPUTS OR NOT OUTPUT)
  message(FATAL_ERROR
    "usage: cmake -DINPUTS=<file;...> -DOUTPUT=<path without extension> -P embed_assets.cmake")
endif()

get_filename_component(header_name "${OUTPUT}" NAME)
set(header "// Generated from the visualizer's viewer files by embed_assets.cmake.\n#pragma once\n\n")
set(source "// Generated from the visualizer's viewer files by embed_assets.cmake.\n#include \"${header_name}.h\"\n")

foreach(input IN LISTS INPUTS)
  get_filename_component(file_name "${input}" NAME)
  string(REGEX REPLACE "[^A-Za-z0-9]+" ";" words "${file_name}")
  set(symbol "kViz")
  foreach(word IN LISTS words)
    string(SUBSTRING "${word}" 0 1 first)
    string(SUBSTRING "${word}" 1 -1 rest)
    string(TOUPPER "${first}" first)
    string(APPEND symbol "${first}${rest}")
  endforeach()

  file(READ "${input}" hex HEX)
  # char(0xNN): a plain 0xe2 would narrow into a signed char, an error in a
  # braced initializer.
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "char(0x\\1)," bytes "${hex}")
  # One line of C++ per line of the file.
  string(REPLACE "char(0x0a)," "char(0x0a),\n" bytes "${bytes}")
  string(APPEND header "/// ${file_name}, NUL-terminated.\nextern const char ${symbol}[];\n")
  string(APPEND source "\nextern const char ${symbol}[] = {\n${bytes}char(0)};\n")
endforeach()

foreach(ext h cpp)
  if(ext STREQUAL "h")
    set(text "${header}")
  else()
    set(text "${source}")
  endif()
  file(WRITE "${OUTPUT}.${ext}.tmp" "${text}")
  file(COPY_FILE "${OUTPUT}.${ext}.tmp" "${OUTPUT}.${ext}" ONLY_IF_DIFFERENT)
  file(REMOVE "${OUTPUT}.${ext}.tmp")
endforeach()
