package gsae.comm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The ranks of a job as an NCCL communicator over device memory, one GPU per rank. Buffers are
 * device segments (a device address and a size, {@code MemorySegment.ofAddress(a).reinterpret(n)}).
 * Collectives are enqueued on gsae's CUDA stream, so they are ordered with its kernels: a kernel
 * launched on that stream afterwards sees the result, and a host read of it waits for the stream as
 * for any kernel's output; {@link #barrier} waits for the stream itself. The CUDA context of the
 * rank's device must be current on the calling thread (gsae's CUDA backend makes it so).
 *
 * <p>The communicator's unique id is made by rank 0 and shared through the host group's broadcast
 * (MPI), so NCCL needs no rendezvous of its own.
 */
public final class NcclGroup implements Collectives {

    private final NcclLibrary nccl;
    private final Cuda cuda;
    private final long comm, stream, word;
    private final int rank, size;
    private boolean closed;

    private NcclGroup(NcclLibrary nccl, Cuda cuda, long comm, long stream, long word, int rank, int size) {
        this.nccl = nccl;
        this.cuda = cuda;
        this.comm = comm;
        this.stream = stream;
        this.word = word;
        this.rank = rank;
        this.size = size;
    }

    /** Null when NCCL can be loaded (from {@code env}, as {@link #open} loads it), else one line saying why not. Never throws. */
    public static String unavailableReason(Map<String, String> env) {
        try {
            NcclLibrary.load(env);
            return null;
        } catch (RuntimeException | LinkageError e) {
            return e.getMessage();
        }
    }

    /**
     * The NCCL communicator of {@code host}'s ranks on the current CUDA device, collectives on
     * {@code stream} (a CUstream's native handle). A collective call on every rank of {@code host}.
     */
    public static NcclGroup open(Collectives host, long stream) {
        NcclLibrary nccl = NcclLibrary.load(System.getenv());
        byte[] id = host.rank() == 0 ? nccl.uniqueId() : new byte[(int) NcclLibrary.UNIQUE_ID.byteSize()];
        host.broadcast(id, 0);
        Cuda cuda = new Cuda();
        long word = cuda.allocate(8);
        long comm;
        try {
            comm = nccl.commInitRank(host.size(), id, host.rank());
        } catch (RuntimeException e) {
            cuda.free(word);
            throw e;
        }
        return new NcclGroup(nccl, cuda, comm, stream, word, host.rank(), host.size());
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public boolean deviceMemory() {
        return true;
    }

    @Override
    public void allReduce(MemorySegment buf, ElementType type, ReduceOp op) {
        long n = count(buf, type);
        nccl.check(nccl.allReduce(buf.address(), buf.address(), n, type(type), op(op), comm, stream),
                "ncclAllReduce(" + n + " × " + type + ", " + op + ")");
    }

    @Override
    public void allGather(MemorySegment send, MemorySegment recv, ElementType type) {
        long n = count(send, type);
        Collectives.checkGather(send, recv, size);
        nccl.check(nccl.allGather(send.address(), recv.address(), n, type(type), comm, stream), "ncclAllGather(" + n + " × " + type + ")");
    }

    @Override
    public void broadcast(MemorySegment buf, ElementType type, int root) {
        Collectives.checkRoot(root, size);
        long n = count(buf, type);
        nccl.check(nccl.broadcast(buf.address(), buf.address(), n, type(type), root, comm, stream),
                "ncclBroadcast(" + n + " × " + type + " from rank " + root + ")");
    }

    /** An all-reduce of one word, then a wait for the stream: every rank has arrived when it returns. */
    @Override
    public void barrier() {
        requireOpen();
        nccl.check(nccl.allReduce(word, word, 1, type(ElementType.I32), op(ReduceOp.SUM), comm, stream), "ncclAllReduce (barrier)");
        cuda.synchronize(stream);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            nccl.check(nccl.commDestroy(comm), "ncclCommDestroy");
        } finally {
            cuda.free(word);
        }
    }

    /** The element count of {@code buf}, once the group is known to be open. */
    private long count(MemorySegment buf, ElementType type) {
        requireOpen();
        return type.count(buf);
    }

    private void requireOpen() {
        if (closed) throw new IllegalStateException("the NCCL group was closed");
    }

    /** ncclDataType_t of nccl.h. */
    static int type(ElementType t) {
        return switch (t) {
            case U8 -> 1;
            case I32 -> 2;
            case I64 -> 4;
            case F32 -> 7;
            case F64 -> 8;
        };
    }

    /** ncclRedOp_t of nccl.h. */
    static int op(ReduceOp o) {
        return switch (o) {
            case SUM -> 0;
            case MAX -> 2;
            case MIN -> 3;
        };
    }

    /** The three CUDA driver calls the group needs of its own, through FFM from libcuda.so.1. */
    private static final class Cuda {

        private final MethodHandle memAlloc, memFree, streamSynchronize;

        @SuppressWarnings("restricted") // native access is granted by --enable-native-access (gsae's launcher and poms)
        Cuda() {
            SymbolLookup lib = SymbolLookup.libraryLookup("libcuda.so.1", Arena.global());
            Linker linker = Linker.nativeLinker();
            memAlloc = linker.downcallHandle(lib.find("cuMemAlloc_v2").orElseThrow(), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
            memFree = linker.downcallHandle(lib.find("cuMemFree_v2").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
            streamSynchronize = linker.downcallHandle(lib.find("cuStreamSynchronize").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
        }

        long allocate(long bytes) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment out = arena.allocate(JAVA_LONG);
                check((int) memAlloc.invokeExact(out, bytes), "cuMemAlloc");
                return out.get(JAVA_LONG, 0);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("cuMemAlloc could not be called: " + t, t);
            }
        }

        void free(long address) {
            try {
                check((int) memFree.invokeExact(address), "cuMemFree");
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("cuMemFree could not be called: " + t, t);
            }
        }

        void synchronize(long stream) {
            try {
                check((int) streamSynchronize.invokeExact(stream), "cuStreamSynchronize");
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("cuStreamSynchronize could not be called: " + t, t);
            }
        }

        private static void check(int result, String call) {
            if (result != 0) throw new IllegalStateException(call + " failed: CUresult " + result);
        }
    }
}
