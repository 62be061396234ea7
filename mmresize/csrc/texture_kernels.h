// The kernels of texture_at_anchors.cpp (see there), templated on the
// scalar type. No include guard and no includes on purpose: the .cpp
// includes this file once per instruction set, each time inside its own
// namespace under its own "#pragma GCC target", and picks one at run time.
// Uses F, NB and PATCH from the enclosing namespace.

template <typename T, int CIN>
struct Weights {
  // Transposed so that the F output channels are innermost (vectorised).
  std::array<T, CIN * 9 * F> wa;  // [c][ky][kx][f]
  std::array<T, F> ba;
  std::array<T, NB * F * F> wb;   // [pq][g][f]  (f = output channel)
  std::array<T, NB * F * F> wbt;  // [pq][f][g]  for the backward pass
  std::array<T, F> bb;

  Weights(const at::Tensor& wa_, const at::Tensor& ba_, const at::Tensor& wb_,
          const at::Tensor& bb_) {
    const T* a = wa_.data_ptr<T>();
    const T* b = wb_.data_ptr<T>();
    for (int f = 0; f < F; ++f) {
      for (int k = 0; k < CIN * 9; ++k) wa[k * F + f] = a[f * CIN * 9 + k];
      for (int g = 0; g < F; ++g)
        for (int pq = 0; pq < NB; ++pq) {
          const T v = b[(f * F + g) * NB + pq];
          wb[(pq * F + g) * F + f] = v;
          wbt[(pq * F + f) * F + g] = v;
        }
      ba[f] = ba_.data_ptr<T>()[f];
      bb[f] = bb_.data_ptr<T>()[f];
    }
  }
};

// The 5x5 input patch around (y0, x0), zero outside the image.
template <typename T, int CIN>
inline void load_patch(const T* x, int64_t H, int64_t W, int64_t y0,
                       int64_t x0, T* patch) {
  if (y0 >= 2 && y0 + 2 < H && x0 >= 2 && x0 + 2 < W) {  // interior
    for (int c = 0; c < CIN; ++c)
      for (int dy = 0; dy < PATCH; ++dy) {
        const T* src = x + (c * H + y0 + dy - 2) * W + x0 - 2;
        T* row = patch + (c * PATCH + dy) * PATCH;
        for (int dx = 0; dx < PATCH; ++dx) row[dx] = src[dx];
      }
    return;
  }
  for (int c = 0; c < CIN; ++c) {
    const T* plane = x + c * H * W;
    for (int dy = 0; dy < PATCH; ++dy) {
      const int64_t y = y0 + dy - 2;
      T* row = patch + (c * PATCH + dy) * PATCH;
      if (y < 0 || y >= H) {
        for (int dx = 0; dx < PATCH; ++dx) row[dx] = T(0);
        continue;
      }
      for (int dx = 0; dx < PATCH; ++dx) {
        const int64_t xx = x0 + dx - 2;
        row[dx] = (xx >= 0 && xx < W) ? plane[y * W + xx] : T(0);
      }
    }
  }
}

// Hidden layer relu(conv_a) at the 9 neighbours; 0 where a neighbour lies
// outside the image (conv_b's zero padding).
template <typename T, int CIN>
inline void hidden_at(const Weights<T, CIN>& w, const T* patch,
                      const bool* inside, T* hidden) {
  T acc[NB][F];
  for (int pq = 0; pq < NB; ++pq)
    for (int f = 0; f < F; ++f) acc[pq][f] = w.ba[f];
  for (int c = 0; c < CIN; ++c)
    for (int ky = 0; ky < 3; ++ky)
      for (int kx = 0; kx < 3; ++kx) {
        const T* wv = &w.wa[((c * 3 + ky) * 3 + kx) * F];
        const T* base = patch + (c * PATCH + ky) * PATCH + kx;
        for (int p = 0; p < 3; ++p)
          for (int q = 0; q < 3; ++q) {
            const T v = base[p * PATCH + q];
#pragma omp simd
            for (int f = 0; f < F; ++f) acc[p * 3 + q][f] += v * wv[f];
          }
      }
  for (int pq = 0; pq < NB; ++pq)
    for (int f = 0; f < F; ++f)
      hidden[pq * F + f] =
          (inside[pq] && acc[pq][f] > T(0)) ? acc[pq][f] : T(0);
}

template <typename T, int CIN>
inline void output_at(const Weights<T, CIN>& w, const T* hidden,
                      T* out) {
  T acc[NB][F] = {};
  for (int g = 0; g < F; ++g)
    for (int pq = 0; pq < NB; ++pq) {
      const T v = hidden[pq * F + g];
      const T* wv = &w.wb[(pq * F + g) * F];
#pragma omp simd
      for (int f = 0; f < F; ++f) acc[pq][f] += v * wv[f];
    }
  for (int f = 0; f < F; ++f) {
    T s = w.bb[f];
    for (int pq = 0; pq < NB; ++pq) s += acc[pq][f];
    out[f] = s > T(0) ? s : T(0);
  }
}

inline void inside_mask(int64_t H, int64_t W, int64_t y0, int64_t x0,
                        bool* inside) {
  for (int p = 0; p < 3; ++p)
    for (int q = 0; q < 3; ++q) {
      const int64_t y = y0 + p - 1, xx = x0 + q - 1;
      inside[p * 3 + q] = y >= 0 && y < H && xx >= 0 && xx < W;
    }
}

template <typename T, int CIN>
at::Tensor forward_impl(const at::Tensor& x, const at::Tensor& wa,
                        const at::Tensor& ba, const at::Tensor& wb,
                        const at::Tensor& bb, const at::Tensor& ys,
                        const at::Tensor& xs) {
  const int64_t B = x.size(0), H = x.size(2), W = x.size(3);
  const int64_t h = ys.size(0), w = xs.size(0);
  const Weights<T, CIN> weights(wa, ba, wb, bb);
  auto out = at::empty({B, F, h, w}, x.options());
  const T* xp = x.data_ptr<T>();
  const int64_t* yp = ys.data_ptr<int64_t>();
  const int64_t* xsp = xs.data_ptr<int64_t>();
  T* op = out.data_ptr<T>();
  at::parallel_for(0, B * h, 1, [&](int64_t begin, int64_t end) {
    T patch[CIN * PATCH * PATCH];
    T hid[NB * F];
    T res[F];
    bool inside[NB];
    for (int64_t bi = begin; bi < end; ++bi) {
      const int64_t b = bi / h, i = bi % h;
      const T* xb = xp + b * CIN * H * W;
      for (int64_t j = 0; j < w; ++j) {
        const int64_t y0 = yp[i], x0 = xsp[j];
        load_patch<T, CIN>(xb, H, W, y0, x0, patch);
        inside_mask(H, W, y0, x0, inside);
        hidden_at<T, CIN>(weights, patch, inside, hid);
        output_at<T, CIN>(weights, hid, res);
        for (int f = 0; f < F; ++f) op[((b * F + f) * h + i) * w + j] = res[f];
      }
    }
  });
  return out;
}

// dst[k0 + t][f] += sum_j a[j][k0 + t] * g[j][f] for t < N: N accumulators
// of F lanes stay in registers across the row of n anchors.
template <typename T, int N>
inline void outer_block(const T* a, int lda, const T* g, int ldg,
                        int64_t n, T* dst) {
  T acc[N][F] = {};
  for (int64_t j = 0; j < n; ++j) {
    const T* gj = g + j * ldg;
    const T* aj = a + j * lda;
    for (int t = 0; t < N; ++t) {
      const T v = aj[t];
#pragma omp simd
      for (int f = 0; f < F; ++f) acc[t][f] += v * gj[f];
    }
  }
  for (int t = 0; t < N; ++t)
#pragma omp simd
    for (int f = 0; f < F; ++f) dst[t * F + f] += acc[t][f];
}

// dst[k][f] += sum_j a[j][k] * g[j][f], k < K: the K x F weight gradient of
// one row of n anchors, a: (n, K), g: (n, F) with row stride ldg.
template <typename T, int K>
inline void accumulate_outer(const T* a, const T* g, int ldg,
                             int64_t n, T* dst) {
  constexpr int BLOCK = 8;
  constexpr int FULL = K / BLOCK * BLOCK;
  for (int k0 = 0; k0 < FULL; k0 += BLOCK)
    outer_block<T, BLOCK>(a + k0, K, g, ldg, n, dst + k0 * F);
  if constexpr (K % BLOCK != 0)
    outer_block<T, K % BLOCK>(a + FULL, K, g, ldg, n, dst + FULL * F);
}

template <typename T, int CIN>
std::vector<at::Tensor> backward_impl(
    const at::Tensor& grad_out, const at::Tensor& out, const at::Tensor& x,
    const at::Tensor& wa, const at::Tensor& ba, const at::Tensor& wb,
    const at::Tensor& bb, const at::Tensor& ys, const at::Tensor& xs) {
  const int64_t B = x.size(0), H = x.size(2), W = x.size(3);
  const int64_t h = ys.size(0), w = xs.size(0);
  const Weights<T, CIN> weights(wa, ba, wb, bb);
  const T* xp = x.data_ptr<T>();
  const T* gp = grad_out.data_ptr<T>();
  const T* op = out.data_ptr<T>();
  const int64_t* yp = ys.data_ptr<int64_t>();
  const int64_t* xsp = xs.data_ptr<int64_t>();
  // Per-thread accumulators: [wa (CIN*9*F) | ba (F) | wb (NB*F*F) | bb (F)].
  constexpr int SA = CIN * 9 * F, SB = NB * F * F;
  constexpr int SIZE = SA + F + SB + F;
  constexpr int TAPS = CIN * PATCH * PATCH;
  const int threads = at::get_num_threads();
  std::vector<T> acc(static_cast<size_t>(threads) * SIZE, T(0));
  at::parallel_for(0, B * h, 1, [&](int64_t begin, int64_t end) {
    T* mine = acc.data() + static_cast<size_t>(at::get_thread_num()) * SIZE;
    T* gwa = mine;
    T* gba = mine + SA;
    T* gwb = mine + SA + F;
    T* gbb = mine + SA + F + SB;
    // One row of anchors at a time: hidden layer, output gradient, hidden
    // gradient and input patches, then the weight gradients as small GEMMs.
    std::vector<T> hid(w * NB * F), g2(w * F), gh(w * NB * F);
    std::vector<T> patches(w * TAPS);
    bool inside[NB];
    for (int64_t bi = begin; bi < end; ++bi) {
      const int64_t b = bi / h, i = bi % h;
      const T* xb = xp + b * CIN * H * W;
      // Output gradient through the ReLU, transposed to (w, F).
      for (int f = 0; f < F; ++f) {
        const int64_t base = ((b * F + f) * h + i) * w;
        T sum = T(0);
        for (int64_t j = 0; j < w; ++j) {
          const T v = op[base + j] > T(0) ? gp[base + j] : T(0);
          g2[j * F + f] = v;
          sum += v;
        }
        gbb[f] += sum;
      }
      for (int64_t j = 0; j < w; ++j) {
        const T* g2j = &g2[j * F];
        T* patch = &patches[j * TAPS];
        load_patch<T, CIN>(xb, H, W, yp[i], xsp[j], patch);
        inside_mask(H, W, yp[i], xsp[j], inside);
        T* hj = &hid[j * NB * F];
        hidden_at<T, CIN>(weights, patch, inside, hj);
        T ghj[NB][F] = {};
        for (int f = 0; f < F; ++f)
          for (int pq = 0; pq < NB; ++pq) {
            const T* wv = &weights.wbt[(pq * F + f) * F];
            const T v = g2j[f];
#pragma omp simd
            for (int g = 0; g < F; ++g) ghj[pq][g] += v * wv[g];
          }
        T* dst = &gh[j * NB * F];
        for (int pq = 0; pq < NB; ++pq)
#pragma omp simd
          for (int g = 0; g < F; ++g) {
            const T v = hj[pq * F + g] > T(0) ? ghj[pq][g] : T(0);
            dst[pq * F + g] = v;
            gba[g] += v;
          }
      }
      // conv_b weights: sum_j hidden[j] (x) g2[j].
      accumulate_outer<T, NB * F>(hid.data(), g2.data(), F, w, gwb);
      // conv_a weights, one input channel at a time so that its 9 kernel
      // taps accumulate in registers over the whole row:
      // gwa[c][ky][kx] += sum_j sum_pq patch[j][c][p + ky][q + kx] gh[j][pq].
      for (int c = 0; c < CIN; ++c) {
        T tap[9][F] = {};
        for (int64_t j = 0; j < w; ++j) {
          const T* patch = &patches[j * TAPS + c * PATCH * PATCH];
          const T* ghj = &gh[j * NB * F];
          for (int pq = 0; pq < NB; ++pq) {
            const T* gv = ghj + pq * F;
            const T* base = patch + (pq / 3) * PATCH + pq % 3;
            for (int ky = 0; ky < 3; ++ky)
              for (int kx = 0; kx < 3; ++kx) {
                const T v = base[ky * PATCH + kx];
#pragma omp simd
                for (int g = 0; g < F; ++g) tap[ky * 3 + kx][g] += v * gv[g];
              }
          }
        }
        for (int k = 0; k < 9; ++k)
#pragma omp simd
          for (int g = 0; g < F; ++g) gwa[(c * 9 + k) * F + g] += tap[k][g];
      }
    }
  });
  // Reduce the threads and transpose back to PyTorch's layouts.
  std::vector<T> total(SIZE, T(0));
  for (int t = 0; t < threads; ++t)
    for (int k = 0; k < SIZE; ++k) total[k] += acc[t * SIZE + k];
  auto gwa = at::empty_like(wa), gba = at::empty_like(ba);
  auto gwb = at::empty_like(wb), gbb = at::empty_like(bb);
  T* gwap = gwa.data_ptr<T>();
  T* gwbp = gwb.data_ptr<T>();
  for (int f = 0; f < F; ++f) {
    for (int k = 0; k < CIN * 9; ++k) gwap[f * CIN * 9 + k] = total[k * F + f];
    for (int g = 0; g < F; ++g)
      for (int pq = 0; pq < NB; ++pq)
        gwbp[(f * F + g) * NB + pq] = total[SA + F + (pq * F + g) * F + f];
    gba.data_ptr<T>()[f] = total[SA + f];
    gbb.data_ptr<T>()[f] = total[SA + F + SB + f];
  }
  return {gwa, gba, gwb, gbb};
}
