package gsae.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The four cuBLAS entry points the dense baseline uses, bound by hand through the FFM API
 * (libcublas.so.13, else .so.12): cublasCreate_v2, cublasSetStream_v2, cublasSgemm_v2,
 * cublasDestroy_v2. Device pointers arrive as raw addresses ({@link DeviceBuffer#address}).
 * cuBLAS is column-major; {@link #gemmRowMajorNT} and {@link #gemmRowMajorNN} state the row-major
 * products they compute and how they map.
 */
final class Cublas implements Gemm {

    private static final int OP_N = 0, OP_T = 1;
    private static final Linker LINKER = Linker.nativeLinker();

    private final Arena arena = Arena.ofShared();
    private final MethodHandle sgemm, destroy;
    private final MemorySegment handle, one, zero;

    /** Loads cuBLAS and creates a handle on {@code streamAddress} (a CUstream's native handle). */
    Cublas(long streamAddress) {
        try {
            SymbolLookup lib = load();
            MethodHandle create = bind(lib, "cublasCreate_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            MethodHandle setStream = bind(lib, "cublasSetStream_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
            sgemm = bind(lib, "cublasSgemm_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                    ADDRESS, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
            destroy = bind(lib, "cublasDestroy_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            MemorySegment out = arena.allocate(ADDRESS);
            check((int) create.invokeExact(out), "cublasCreate_v2");
            handle = out.get(ADDRESS, 0);
            check((int) setStream.invokeExact(handle, streamAddress), "cublasSetStream_v2");
            one = arena.allocateFrom(JAVA_FLOAT, 1f);
            zero = arena.allocateFrom(JAVA_FLOAT, 0f);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        } catch (Throwable t) {
            arena.close();
            throw new IllegalStateException("cuBLAS could not be bound: " + t, t);
        }
    }

    private static final String[] SONAMES = {"libcublas.so.13", "libcublas.so.12"};

    /** Toolkit folders tried after the library path, for a gsae started without LD_LIBRARY_PATH set. */
    private static List<Path> toolkitFolders() {
        List<Path> dirs = new ArrayList<>();
        String home = System.getenv("CUDA_HOME");
        if (home != null) dirs.add(Path.of(home, "lib64"));
        dirs.add(Path.of("/usr/local/cuda/lib64"));
        dirs.add(Path.of("/usr/local/cuda/targets/x86_64-linux/lib"));
        return dirs;
    }

    @SuppressWarnings("restricted") // native access is granted by --enable-native-access (gsae's launcher and poms)
    private SymbolLookup load() {
        for (String name : SONAMES) {
            try {
                return SymbolLookup.libraryLookup(name, arena);
            } catch (IllegalArgumentException e) {
                // not on the library path: the toolkit folders come next
            }
        }
        for (Path dir : toolkitFolders())
            for (String name : SONAMES)
                if (Files.isRegularFile(dir.resolve(name))) return SymbolLookup.libraryLookup(dir.resolve(name), arena);
        throw new IllegalStateException("cuBLAS not found: " + String.join(" or ", SONAMES) + " is neither on the library path nor in "
                + toolkitFolders() + " (set LD_LIBRARY_PATH to the folder holding it)");
    }

    @SuppressWarnings("restricted")
    private static MethodHandle bind(SymbolLookup lib, String symbol, FunctionDescriptor fd) {
        MemorySegment at = lib.find(symbol).orElseThrow(() -> new IllegalStateException("cuBLAS has no symbol " + symbol));
        return LINKER.downcallHandle(at, fd);
    }

    /** C[rows, cols] = A[rows, inner] · B[cols, inner]ᵀ, all row-major f32 (column-major: Cᵀ = B·Aᵀ, i.e. op(B)=T on B's storage). */
    @Override
    public void gemmRowMajorNT(long a, long b, long c, int rows, int cols, int inner) {
        sgemm(OP_T, OP_N, cols, rows, inner, b, inner, a, inner, c, cols, "C = A·Bᵀ");
    }

    /** C[rows, cols] = A[rows, inner] · B[inner, cols], all row-major f32 (column-major: Cᵀ = Bᵀ·Aᵀ). */
    @Override
    public void gemmRowMajorNN(long a, long b, long c, int rows, int cols, int inner) {
        sgemm(OP_N, OP_N, cols, rows, inner, b, cols, a, inner, c, cols, "C = A·B");
    }

    private void sgemm(int opA, int opB, int m, int n, int k, long a, int lda, long b, int ldb, long c, int ldc, String what) {
        try {
            check((int) sgemm.invokeExact(handle, opA, opB, m, n, k, one, a, lda, b, ldb, zero, c, ldc),
                    "cublasSgemm_v2(" + what + ", m=" + m + ", n=" + n + ", k=" + k + ")");
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cublasSgemm_v2 call failed: " + t, t);
        }
    }

    private static void check(int status, String call) {
        if (status != 0) throw new CudaException(call + " failed: cublasStatus_t " + status + " (" + statusName(status) + ")");
    }

    private static String statusName(int status) {
        return switch (status) {
            case 1 -> "NOT_INITIALIZED";
            case 3 -> "ALLOC_FAILED";
            case 7 -> "INVALID_VALUE";
            case 8 -> "ARCH_MISMATCH";
            case 11 -> "MAPPING_ERROR";
            case 13 -> "EXECUTION_FAILED";
            case 14 -> "INTERNAL_ERROR";
            case 15 -> "NOT_SUPPORTED";
            default -> "see cublas_api.h";
        };
    }

    @Override
    public void close() {
        try {
            check((int) destroy.invokeExact(handle), "cublasDestroy_v2");
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cublasDestroy_v2 call failed: " + t, t);
        } finally {
            arena.close();
        }
    }
}
