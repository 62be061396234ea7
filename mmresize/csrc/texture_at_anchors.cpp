// Fused texture features at the anchors (DownsizeNet, Ma & Li, BMVC 2022).
//
// relu(conv_b(relu(conv_a(x)))) evaluated only at the anchor points
// (ys[i], xs[j]), both convs 3x3 with zero padding: each anchor reads the 5x5
// input patch around it, evaluates conv_a at its 3x3 neighbourhood and conv_b
// at the anchor. Nothing is computed or stored at full resolution, which is
// where the dense PyTorch path spends its time and memory (section 5 of
// docs/method.md). CPU, float32 (and float64, for gradcheck);
// the Python side falls back to PyTorch for anything else.
//
// Shapes: x (B, CIN, H, W) contiguous; wa (F, CIN, 3, 3); ba (F); wb (F, F,
// 3, 3); bb (F); ys (h), xs (w) int64 anchors inside the image.
// Output (B, F, h, w). The backward pass recomputes the hidden layer (cheaper
// than storing 9 x F values per anchor) and returns the weight gradients only:
// the Python side uses this op where its input needs no gradient.
// Portability: the kernels are compiled three times, for AVX-512, for
// AVX2 + FMA and for the build's baseline (setup.py: x86-64-v2 unless
// MMRESIZE_CPU_ARCH says otherwise), and the widest one this CPU supports
// is chosen at run time, so one build runs everywhere at native speed.
#include <ATen/Parallel.h>
#include <torch/extension.h>

#include <array>
#include <string>
#include <vector>


namespace {

constexpr int F = 16;  // feature channels (the paper's 16)
constexpr int NB = 9;  // 3x3 neighbours of an anchor
constexpr int PATCH = 5;

namespace baseline {
#include "texture_kernels.h"
}  // namespace baseline

#if defined(__x86_64__) && defined(__GNUC__)
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace avx2 {
#include "texture_kernels.h"
}  // namespace avx2
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")
namespace avx512 {
#include "texture_kernels.h"
}  // namespace avx512
#pragma GCC pop_options
#define MMRESIZE_DISPATCH 1
#endif

// The widest instruction set of this CPU that the kernels were built for.
enum class Isa { kBaseline, kAvx2, kAvx512 };

// The widest instruction set the CPU supports (and the kernels were built
// for).
Isa widest_isa() {
#ifdef MMRESIZE_DISPATCH
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") &&
      __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq"))
    return Isa::kAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return Isa::kAvx2;
#endif
  return Isa::kBaseline;
}

const Isa kWidest = widest_isa();
Isa g_isa = kWidest;  // the kernels in use (set_isa: tests, benchmarks)

Isa cpu_isa() { return g_isa; }

const char* name_of(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return "avx512";
    case Isa::kAvx2: return "avx2";
    default: return "baseline";
  }
}

const char* isa_name() { return name_of(g_isa); }

// Available kernel sets on this CPU, narrowest first.
std::vector<std::string> available_isas() {
  std::vector<std::string> names;
  for (Isa isa : {Isa::kBaseline, Isa::kAvx2, Isa::kAvx512})
    if (static_cast<int>(isa) <= static_cast<int>(kWidest))
      names.push_back(name_of(isa));
  return names;
}

// Use the kernels of ``name`` (one of available_isas()); returns the
// previous choice.
std::string set_isa(const std::string& name) {
  const std::string previous = name_of(g_isa);
  for (Isa isa : {Isa::kBaseline, Isa::kAvx2, Isa::kAvx512})
    if (name == name_of(isa)) {
      TORCH_CHECK(static_cast<int>(isa) <= static_cast<int>(kWidest),
                  "texture_at_anchors: this CPU has no ", name,
                  "; available: ", name_of(kWidest), " and narrower");
      g_isa = isa;
      return previous;
    }
  TORCH_CHECK(false, "texture_at_anchors: unknown instruction set ", name);
}

#ifdef MMRESIZE_DISPATCH
#define MMRESIZE_CALL(fn, T, CIN, ...)                                \
  (cpu_isa() == Isa::kAvx512 ? avx512::fn<T, CIN>(__VA_ARGS__)        \
   : cpu_isa() == Isa::kAvx2 ? avx2::fn<T, CIN>(__VA_ARGS__)          \
                             : baseline::fn<T, CIN>(__VA_ARGS__))
#else
#define MMRESIZE_CALL(fn, T, CIN, ...) baseline::fn<T, CIN>(__VA_ARGS__)
#endif

void check(const at::Tensor& x, const at::Tensor& wa, const at::Tensor& wb) {
  TORCH_CHECK(x.device().is_cpu() &&
                  (x.scalar_type() == at::kFloat ||
                   x.scalar_type() == at::kDouble) &&
                  x.dim() == 4 && x.is_contiguous(),
              "texture_at_anchors: x must be a contiguous float32 or float64 "
              "CPU (B, C, H, W) tensor");
  TORCH_CHECK(wa.scalar_type() == x.scalar_type() &&
                  wb.scalar_type() == x.scalar_type(),
              "texture_at_anchors: weights and input must share a dtype");
  TORCH_CHECK(wa.size(0) == F && wb.size(0) == F && wb.size(1) == F,
              "texture_at_anchors: only 16 feature channels are compiled");
  TORCH_CHECK(wa.size(1) == x.size(1), "texture_at_anchors: channel mismatch");
}

at::Tensor forward(at::Tensor x, at::Tensor wa, at::Tensor ba, at::Tensor wb,
                   at::Tensor bb, at::Tensor ys, at::Tensor xs) {
  check(x, wa, wb);
  wa = wa.contiguous(), ba = ba.contiguous(), wb = wb.contiguous();
  bb = bb.contiguous(), ys = ys.contiguous(), xs = xs.contiguous();
  TORCH_CHECK(x.size(1) == 3 || x.size(1) == 16,
              "texture_at_anchors: input channels must be 3 or 16");
  at::Tensor out;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "texture_at_anchors", [&] {
    out = x.size(1) == 3
              ? MMRESIZE_CALL(forward_impl, scalar_t, 3, x, wa, ba, wb, bb,
                              ys, xs)
              : MMRESIZE_CALL(forward_impl, scalar_t, 16, x, wa, ba, wb, bb,
                              ys, xs);
  });
  return out;
}

std::vector<at::Tensor> backward(at::Tensor grad_out, at::Tensor out,
                                 at::Tensor x,
                                 at::Tensor wa, at::Tensor ba, at::Tensor wb,
                                 at::Tensor bb, at::Tensor ys, at::Tensor xs) {
  check(x, wa, wb);
  grad_out = grad_out.contiguous();
  wa = wa.contiguous(), ba = ba.contiguous(), wb = wb.contiguous();
  bb = bb.contiguous(), ys = ys.contiguous(), xs = xs.contiguous();
  TORCH_CHECK(x.size(1) == 3 || x.size(1) == 16,
              "texture_at_anchors: input channels must be 3 or 16");
  std::vector<at::Tensor> grads;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "texture_at_anchors", [&] {
    grads = x.size(1) == 3
                ? MMRESIZE_CALL(backward_impl, scalar_t, 3, grad_out, out, x,
                                wa, ba, wb, bb, ys, xs)
                : MMRESIZE_CALL(backward_impl, scalar_t, 16, grad_out, out, x,
                                wa, ba, wb, bb, ys, xs);
  });
  return grads;
}

}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.doc() = "mmresize compiled ops (CPU)";
  m.def("texture_at_anchors_forward", &forward,
        "relu(conv_b(relu(conv_a(x)))) at the anchors: (B, F, h, w)");
  m.def("texture_at_anchors_backward", &backward,
        "gradients of conv_a/conv_b weights and biases");
  m.def("isa", &isa_name,
        "the instruction set whose kernels run (the widest the CPU has)");
  m.def("available_isas", &available_isas,
        "the kernel sets this CPU can run, narrowest first");
  m.def("set_isa", &set_isa,
        "run the kernels of one available instruction set; returns the "
        "previous one");
}
