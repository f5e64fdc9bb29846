// tsan_check.cpp — make emulator-tsan: one launch of every kernel whose threads share memory
// (shared-memory tiles, block reductions, radix selects, scans) on small random inputs, with the
// kernels built under ThreadSanitizer and every emulated thread a TSan fiber (scheduler.cpp), so
// that TSan reports any two accesses of a block that no barrier or warp collective orders.
//   tsan_check            exit 0: no race; TSan's report and exit 66 otherwise; 1: a launch failed
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

extern "C" {
const char* gsae_emu_error();
void gsae_emu_configure(int schedule, int verify, uint64_t seed, int timeout_ms);
uint64_t gsae_emu_malloc(uint64_t bytes, const char* name);
int gsae_emu_kernel(const char* family, const char* name);
int gsae_emu_launch(int index, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, unsigned shared, int nargs,
                    void* const* args, const int* sizes);
}

namespace {

std::mt19937 rng(11);

template <typename T>
uint64_t upload(const std::vector<T>& v, const char* name) {
    const uint64_t p = gsae_emu_malloc(v.size() * sizeof(T), name);
    std::memcpy(reinterpret_cast<void*>(p), v.data(), v.size() * sizeof(T));
    return p;
}
std::vector<float> normal(size_t n, float scale = 1.0f) {
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
}

/** One argument: the address of its value and its size. */
struct Arg {
    const void* at;
    int size;
};
template <typename T> Arg a(const T& v) { return Arg{&v, static_cast<int>(sizeof(T))}; }

bool launch(const char* family, const char* name, unsigned gx, unsigned gy, unsigned threads, std::vector<Arg> args) {
    std::vector<void*> at;
    std::vector<int> sizes;
    for (const Arg& x : args) {
        at.push_back(const_cast<void*>(x.at));
        sizes.push_back(x.size);
    }
    const int k = gsae_emu_kernel(family, name);
    if (k < 0 || gsae_emu_launch(k, gx, gy, 1, threads, 1, 1, 0, static_cast<int>(args.size()), at.data(), sizes.data()) != 0) {
        std::fprintf(stderr, "tsan_check: %s/%s: %s\n", family, name, k < 0 ? "no such kernel" : gsae_emu_error());
        return false;
    }
    return true;
}

}  // namespace

int main() {
    gsae_emu_configure(0, 0, 1, 600000);
    const int n = 40, d = 40, m = 130, k = 8, ka = 4, tiles = (m + 127) / 128, row0 = 0;
    const float beta = 0.5f;
    const uint64_t x = upload(normal(n * d), "x"), g = upload(normal(n * d), "g"), w_enc = upload(normal(m * d, 0.2f), "w_enc"),
                   b_enc = upload(normal(m, 0.1f), "b_enc"), w_dec = upload(normal(m * d, 0.2f), "w_dec"), b_dec = upload(normal(d, 0.1f), "b_dec");
    std::vector<unsigned char> dead_flags(m);
    for (int i = 0; i < m; i++) dead_flags[i] = i % 3 == 0;
    const uint64_t dead = upload(dead_flags, "dead");
    const uint64_t cand = gsae_emu_malloc(8ull * n * tiles * k, "cand"), cand_aux = gsae_emu_malloc(8ull * n * tiles * ka, "cand_aux");
    const uint64_t idx = gsae_emu_malloc(4ull * n * k, "idx"), val = gsae_emu_malloc(4ull * n * k, "val");
    bool ok = true;
    for (const char* tile : {"encode_tile_f32", "encode_tile_bf16"})
        ok &= launch("encode_select", tile, tiles, (n + 31) / 32, 256,
                     {a(x), a(g), a(w_enc), a(b_enc), a(w_dec), a(b_dec), a(dead), a(row0), a(n), a(d), a(m), a(k), a(ka), a(beta), a(cand), a(cand_aux)});
    const int count = tiles * k;
    ok &= launch("encode_select", "encode_merge", n, 1, 256, {a(cand), a(count), a(k), a(x), a(w_enc), a(b_enc), a(b_dec), a(row0), a(d), a(idx), a(val)});
    const uint64_t xhat = gsae_emu_malloc(4ull * n * d, "xhat");
    ok &= launch("sparse_decode", "sparse_decode", n, (d + 127) / 128, 128, {a(idx), a(val), a(w_dec), a(b_dec), a(k), a(d), a(xhat)});

    const uint64_t sums = upload(std::vector<double>{1000.0, 0, 1.0, 0}, "sums"), e = gsae_emu_malloc(4ull * n * d, "e"),
                   dxhat = gsae_emu_malloc(4ull * n * d, "dxhat"), row_sse = gsae_emu_malloc(8ull * n, "row_sse");
    ok &= launch("sparse_backward", "residual", n, 1, 128, {a(x), a(xhat), a(d), a(sums), a(e), a(dxhat), a(row_sse)});
    const int slot = 1;
    ok &= launch("sparse_backward", "sum_doubles", 1, 1, 256, {a(row_sse), a(n), a(sums), a(slot)});
    std::vector<int> totals(m);
    for (int& t : totals) t = static_cast<int>(rng() % 5);
    const uint64_t tot = upload(totals, "totals"), offsets = gsae_emu_malloc(4ull * (m + 1), "offsets");
    ok &= launch("sparse_backward", "exclusive_scan", 1, 1, 1024, {a(tot), a(m), a(offsets)});
    std::vector<double> db(m);
    for (double& v : db) v = rng() % 2 ? 0.5 : 0.0;
    const int slices = 4;
    const uint64_t db_sum = upload(db, "db_enc_sum"), partial = gsae_emu_malloc(8ull * slices * d, "partial");
    ok &= launch("sparse_backward", "bias_dec_partial", (d + 31) / 32, slices, 256, {a(dxhat), a(db_sum), a(w_enc), a(n), a(m), a(d), a(slices), a(partial)});

    const uint64_t z = upload(normal(n * m), "z"), s = upload(normal(n * m), "s"), aux_idx = gsae_emu_malloc(4ull * n * ka, "aux_idx"),
                   aux_val = gsae_emu_malloc(4ull * n * ka, "aux_val");
    ok &= launch("dense", "dense_select", n, 1, 256, {a(z), a(s), a(b_enc), a(dead), a(beta), a(m), a(k), a(ka), a(idx), a(val), a(aux_idx), a(aux_val)});

    std::vector<uint64_t> p;  // W_enc, b_enc, W_dec, b_dec for params, grads, m, v
    for (int set = 0; set < 4; set++) {
        const float scale = set == 3 ? 0.0f : 0.1f;
        p.push_back(upload(set == 3 ? std::vector<float>(m * d) : normal(m * d, scale), "W_enc"));
        p.push_back(upload(set == 3 ? std::vector<float>(m) : normal(m, scale), "b_enc"));
        p.push_back(upload(set == 3 ? std::vector<float>(m * d) : normal(m * d, scale), "W_dec"));
        p.push_back(upload(set == 3 ? std::vector<float>(d) : normal(d, scale), "b_dec"));
    }
    const float lr = 1e-3f;
    const double c1 = 0.1, c2 = 0.001;
    std::vector<Arg> adam;
    for (const uint64_t& q : p) adam.push_back(a(q));
    for (Arg extra : {a(m), a(d), a(lr), a(c1), a(c2)}) adam.push_back(extra);
    ok &= launch("update", "adam_update", m + 1, 1, 256, adam);
    if (!ok) return 1;
    std::printf("tsan_check: 11 launches ran\n");
    return 0;
}
