// y = a*x + y on CUDA device `device`; false (and `error`) on a CUDA error.
#pragma once

#include <string>

bool SaxpyOnDevice(int device, float a, const float* x, float* y, int n, std::string* error);
