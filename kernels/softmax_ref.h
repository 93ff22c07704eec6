// Row-wise softmax, numerically stable (the row maximum is subtracted first).
#pragma once

namespace tierkv::kernels {

// In place on `rows` rows of `cols` values, rows `stride` floats apart.
void SoftmaxRef(float* x, int rows, int cols, int stride);

}  // namespace tierkv::kernels
