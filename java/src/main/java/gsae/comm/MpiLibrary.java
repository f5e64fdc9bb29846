package gsae.comm;

import gsae.config.UserError;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The MPI functions gsae calls, bound by hand through the FFM API from the library the launcher's
 * environment points to: Open MPI ({@code libmpi.so.40}) when {@code OMPI_*} variables are set,
 * MPICH ({@code libmpi.so.12}, Debian's {@code libmpich.so.12}) when {@code PMI_*} or {@code
 * HYDRA_*} are; {@code GSAE_MPI_LIBRARY} names a file to load instead. Whether the library has
 * Open MPI's or MPICH's ABI is read from the library itself ({@link MpiAbi#isOpenMpi}). Every call
 * returns MPI's error code; {@link #check} turns a failure into an exception with MPI's own text.
 * Handles are Java longs (see {@link MpiAbi}).
 */
final class MpiLibrary {

    private static final Linker LINKER = Linker.nativeLinker();

    final MpiAbi abi;
    final String file;
    private final SymbolLookup lib;
    private final ValueLayout handle;
    private final MethodHandle initThread, initialized, finalized, commSetErrhandler, commRank, commSize,
            allreduce, allgather, bcast, barrier, finalizeCall, abort, errorString;

    private MpiLibrary(SymbolLookup lib, String file) {
        this.lib = lib;
        this.file = file;
        abi = MpiAbi.isOpenMpi(lib) ? MpiAbi.openMpi(lib) : MpiAbi.mpich();
        // A distinct instance, so that bind() tells handle arguments from int counts by identity.
        handle = (abi.intHandles() ? JAVA_INT : JAVA_LONG).withName("MPI handle");
        initThread = bind("MPI_Init_thread", ADDRESS, ADDRESS, JAVA_INT, ADDRESS);
        initialized = bind("MPI_Initialized", ADDRESS);
        finalized = bind("MPI_Finalized", ADDRESS);
        commSetErrhandler = bind("MPI_Comm_set_errhandler", handle, handle);
        commRank = bind("MPI_Comm_rank", handle, ADDRESS);
        commSize = bind("MPI_Comm_size", handle, ADDRESS);
        allreduce = bind("MPI_Allreduce", ADDRESS, ADDRESS, JAVA_INT, handle, handle, handle);
        allgather = bind("MPI_Allgather", ADDRESS, JAVA_INT, handle, ADDRESS, JAVA_INT, handle, handle);
        bcast = bind("MPI_Bcast", ADDRESS, JAVA_INT, handle, JAVA_INT, handle);
        barrier = bind("MPI_Barrier", handle);
        finalizeCall = bind("MPI_Finalize");
        abort = bind("MPI_Abort", handle, JAVA_INT);
        errorString = bind("MPI_Error_string", JAVA_INT, ADDRESS, ADDRESS);
    }

    /** Loads the MPI library the launcher described in {@code env} (the process's environment). */
    static MpiLibrary load(Map<String, String> env) {
        List<String> candidates = candidates(env);
        for (String candidate : candidates) {
            SymbolLookup lib = NativeLibrary.open(candidate);
            if (lib != null) return new MpiLibrary(lib, candidate);
        }
        throw new UserError("this process was launched as one of several ranks, but no MPI library was found (tried " + String.join(", ", candidates)
                + "): install Open MPI or MPICH, or set GSAE_MPI_LIBRARY to the libmpi.so your mpirun belongs to");
    }

    /** Library names and files to try, the launcher's own family first. */
    static List<String> candidates(Map<String, String> env) {
        String own = env.get("GSAE_MPI_LIBRARY");
        if (own != null && !own.isBlank()) return List.of(own.trim());
        List<String> openMpi = List.of("libmpi.so.40", "/usr/lib/x86_64-linux-gnu/libmpi.so.40", "/usr/lib/aarch64-linux-gnu/libmpi.so.40",
                "/usr/lib64/openmpi/lib/libmpi.so.40");
        List<String> mpich = List.of("libmpi.so.12", "libmpich.so.12", "/usr/lib/x86_64-linux-gnu/libmpich.so.12",
                "/usr/lib/aarch64-linux-gnu/libmpich.so.12", "/usr/lib64/mpich/lib/libmpi.so.12");
        boolean hydra = env.containsKey("PMI_RANK") || env.containsKey("PMI_SIZE") || env.keySet().stream().anyMatch(k -> k.startsWith("HYDRA_"));
        boolean ompi = env.containsKey("OMPI_COMM_WORLD_SIZE");
        List<String> order = new ArrayList<>(hydra && !ompi ? mpich : openMpi);
        order.addAll(hydra && !ompi ? openMpi : mpich);
        return order;
    }

    /** The library, or null when {@code name} (a soname or a path) does not load. */
    @SuppressWarnings("restricted")
    private MethodHandle bind(String symbol, MemoryLayout... args) {
        MemorySegment at = lib.find(symbol).orElseThrow(() -> new IllegalStateException(file + " has no symbol " + symbol));
        MethodHandle mh = LINKER.downcallHandle(at, FunctionDescriptor.of(JAVA_INT, args));
        MethodType uniform = mh.type();
        for (int i = 0; i < args.length; i++)
            if (args[i] == handle) uniform = uniform.changeParameterType(i, long.class);
        return MethodHandles.explicitCastArguments(mh, uniform);
    }

    int initThread(int required, MemorySegment provided) throws Throwable {
        return (int) initThread.invokeExact(MemorySegment.NULL, MemorySegment.NULL, required, provided);
    }

    int initialized(MemorySegment flag) throws Throwable {
        return (int) initialized.invokeExact(flag);
    }

    int finalized(MemorySegment flag) throws Throwable {
        return (int) finalized.invokeExact(flag);
    }

    int commSetErrhandler(long comm, long errhandler) throws Throwable {
        return (int) commSetErrhandler.invokeExact(comm, errhandler);
    }

    int commRank(long comm, MemorySegment rank) throws Throwable {
        return (int) commRank.invokeExact(comm, rank);
    }

    int commSize(long comm, MemorySegment size) throws Throwable {
        return (int) commSize.invokeExact(comm, size);
    }

    int allreduce(MemorySegment send, MemorySegment recv, int count, long type, long op, long comm) throws Throwable {
        return (int) allreduce.invokeExact(send, recv, count, type, op, comm);
    }

    int allgather(MemorySegment send, int sendCount, long sendType, MemorySegment recv, int recvCount, long recvType, long comm) throws Throwable {
        return (int) allgather.invokeExact(send, sendCount, sendType, recv, recvCount, recvType, comm);
    }

    int bcast(MemorySegment buf, int count, long type, int root, long comm) throws Throwable {
        return (int) bcast.invokeExact(buf, count, type, root, comm);
    }

    int barrier(long comm) throws Throwable {
        return (int) barrier.invokeExact(comm);
    }

    int finalizeMpi() throws Throwable {
        return (int) finalizeCall.invokeExact();
    }

    int abort(long comm, int code) throws Throwable {
        return (int) abort.invokeExact(comm, code);
    }

    /** MPI's text for an error code. */
    String errorString(int code) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment text = arena.allocate(1024), length = arena.allocate(JAVA_INT);
            int rc = (int) errorString.invokeExact(code, text, length);
            return rc == 0 ? text.getString(0) : "MPI error " + code;
        } catch (Throwable t) {
            return "MPI error " + code;
        }
    }

    /** Throws when {@code rc} is not MPI_SUCCESS, naming the call and MPI's text for the code. */
    void check(int rc, String call) {
        if (rc != 0) throw new MpiException(call + " failed: " + errorString(rc) + " (" + abi.name() + " error " + rc + ")");
    }
}
