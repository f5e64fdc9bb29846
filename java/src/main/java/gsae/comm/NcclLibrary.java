package gsae.comm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The NCCL functions gsae calls, bound by hand through the FFM API from {@code libnccl.so.2} (the
 * library path, {@code GSAE_NCCL_LIBRARY}, or the toolkit folders), as cuBLAS is. Device pointers,
 * the communicator and the CUstream are raw addresses (Java longs); {@code size_t} counts are longs,
 * enums ints. Every call returns an {@code ncclResult_t}; {@link #check} turns a failure into an
 * exception with NCCL's own text. {@link #version} and {@link #uniqueId} need no GPU.
 */
final class NcclLibrary {

    private static final Linker LINKER = Linker.nativeLinker();

    /** ncclUniqueId: a struct of 128 opaque bytes, passed by value to ncclCommInitRank. */
    static final StructLayout UNIQUE_ID = MemoryLayout.structLayout(MemoryLayout.sequenceLayout(128, JAVA_BYTE).withName("internal"));

    final String file;
    private final SymbolLookup lib;
    private final MethodHandle getVersion, getUniqueId, commInitRank, allReduce, allGather, broadcast, commDestroy, getErrorString;

    private NcclLibrary(SymbolLookup lib, String file) {
        this.lib = lib;
        this.file = file;
        getVersion = bind("ncclGetVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        getUniqueId = bind("ncclGetUniqueId", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        commInitRank = bind("ncclCommInitRank", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, UNIQUE_ID, JAVA_INT));
        allReduce = bind("ncclAllReduce", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
        allGather = bind("ncclAllGather", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG));
        broadcast = bind("ncclBroadcast", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
        commDestroy = bind("ncclCommDestroy", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
        getErrorString = bind("ncclGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    }

    /** Loads NCCL: {@code GSAE_NCCL_LIBRARY} from {@code env} when set, else libnccl.so.2 from the library path or the toolkit folders. */
    static NcclLibrary load(Map<String, String> env) {
        List<String> candidates = candidates(env);
        for (String candidate : candidates) {
            SymbolLookup lib = NativeLibrary.open(candidate);
            if (lib != null) return new NcclLibrary(lib, candidate);
        }
        throw new IllegalStateException("NCCL not found (tried " + String.join(", ", candidates)
                + "): install it (the nvidia-nccl wheel PyTorch uses, or the toolkit's), or set GSAE_NCCL_LIBRARY to libnccl.so.2");
    }

    private static List<String> candidates(Map<String, String> env) {
        String own = env.get("GSAE_NCCL_LIBRARY");
        if (own != null && !own.isBlank()) return List.of(own.trim());
        List<String> c = new ArrayList<>(List.of("libnccl.so.2"));
        String home = env.get("CUDA_HOME");
        if (home != null) c.add(Path.of(home, "lib64", "libnccl.so.2").toString());
        c.addAll(List.of("/usr/local/cuda/lib64/libnccl.so.2", "/usr/lib/x86_64-linux-gnu/libnccl.so.2", "/usr/lib/aarch64-linux-gnu/libnccl.so.2"));
        return c;
    }

    @SuppressWarnings("restricted")
    private MethodHandle bind(String symbol, FunctionDescriptor fd) {
        MemorySegment at = lib.find(symbol).orElseThrow(() -> new IllegalStateException(file + " has no symbol " + symbol));
        return LINKER.downcallHandle(at, fd);
    }

    /** NCCL's version code: major·10000 + minor·100 + patch (2.30.7 → 23007). */
    int version() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(JAVA_INT);
            check(call(() -> (int) getVersion.invokeExact(v)), "ncclGetVersion");
            return v.get(JAVA_INT, 0);
        }
    }

    /** A fresh ncclUniqueId (rank 0 makes it; every rank passes it to {@link #commInitRank}). */
    byte[] uniqueId() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment id = arena.allocate(UNIQUE_ID);
            check(call(() -> (int) getUniqueId.invokeExact(id)), "ncclGetUniqueId");
            return id.toArray(JAVA_BYTE);
        }
    }

    /** A communicator of {@code size} ranks on the current CUDA device, as rank {@code rank}. */
    long commInitRank(int size, byte[] id, int rank) {
        if (id.length != UNIQUE_ID.byteSize()) throw new IllegalArgumentException("an ncclUniqueId has 128 bytes, not " + id.length);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment comm = arena.allocate(ADDRESS), byValue = arena.allocate(UNIQUE_ID);
            byValue.copyFrom(MemorySegment.ofArray(id));
            check(call(() -> (int) commInitRank.invokeExact(comm, size, byValue, rank)), "ncclCommInitRank(rank " + rank + " of " + size + ")");
            return comm.get(JAVA_LONG, 0);
        }
    }

    int allReduce(long send, long recv, long count, int type, int op, long comm, long stream) {
        return call(() -> (int) allReduce.invokeExact(send, recv, count, type, op, comm, stream));
    }

    int allGather(long send, long recv, long sendCount, int type, long comm, long stream) {
        return call(() -> (int) allGather.invokeExact(send, recv, sendCount, type, comm, stream));
    }

    int broadcast(long send, long recv, long count, int type, int root, long comm, long stream) {
        return call(() -> (int) broadcast.invokeExact(send, recv, count, type, root, comm, stream));
    }

    int commDestroy(long comm) {
        return call(() -> (int) commDestroy.invokeExact(comm));
    }

    /** NCCL's text for a result code. */
    @SuppressWarnings("restricted") // the C string NCCL returns, read up to its NUL
    String errorString(int result) {
        try {
            MemorySegment text = (MemorySegment) getErrorString.invokeExact(result);
            return text.equals(MemorySegment.NULL) ? "ncclResult_t " + result : text.reinterpret(4096).getString(0);
        } catch (Throwable t) {
            return "ncclResult_t " + result;
        }
    }

    /** Throws when {@code result} is not ncclSuccess, naming the call and NCCL's text. */
    void check(int result, String call) {
        if (result != 0) throw new IllegalStateException(call + " failed: " + errorString(result) + " (ncclResult_t " + result + ")");
    }

    private interface Call {
        int run() throws Throwable;
    }

    private static int call(Call c) {
        try {
            return c.run();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("NCCL could not be called: " + t, t);
        }
    }
}
