// The checks of the Ray C++ programs: a failed one prints what and where,
// and the program exits with status 1 (each program is one test).
#pragma once

#include <cstdlib>
#include <iostream>
#include <string>

#define CHECK(cond)                                                                      \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::cerr << __FILE__ << ":" << __LINE__ << ": CHECK failed: " #cond << std::endl; \
      std::exit(1);                                                                      \
    }                                                                                    \
  } while (0)

#define CHECK_EQ(a, b)                                                                                \
  do {                                                                                                \
    auto check_a_ = (a);                                                                              \
    auto check_b_ = (b);                                                                              \
    if (!(check_a_ == check_b_)) {                                                                    \
      std::cerr << __FILE__ << ":" << __LINE__ << ": CHECK_EQ failed: " #a " == " #b " (" << check_a_ \
                << " vs " << check_b_ << ")" << std::endl;                                            \
      std::exit(1);                                                                                   \
    }                                                                                                 \
  } while (0)

// `statement` throws an E whose what() contains `text`.
#define CHECK_THROWS(E, statement, text)                                                              \
  do {                                                                                                \
    bool check_thrown_ = false;                                                                       \
    try {                                                                                             \
      statement;                                                                                      \
    } catch (const E& e) {                                                                            \
      check_thrown_ = true;                                                                           \
      if (std::string(e.what()).find(text) == std::string::npos) {                                    \
        std::cerr << __FILE__ << ":" << __LINE__ << ": " #E " without '" << text << "': " << e.what() \
                  << std::endl;                                                                       \
        std::exit(1);                                                                                 \
      }                                                                                               \
    }                                                                                                 \
    if (!check_thrown_) {                                                                             \
      std::cerr << __FILE__ << ":" << __LINE__ << ": expected " #E " from " #statement << std::endl;  \
      std::exit(1);                                                                                   \
    }                                                                                                 \
  } while (0)
