package gsae.comm;

import gsae.config.UserError;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * All the ranks of an MPI job (MPI_COMM_WORLD) over host memory. MPI takes {@code int} element
 * counts, so larger buffers go as several calls of at most {@link #maxCount} elements each (the
 * same split on every rank, so the calls pair up). MPI needs native memory: heap segments (Java
 * arrays) are copied through one native staging buffer of at most {@link #STAGE_BYTES}; a plain
 * downcall keeps the garbage collector free to run while a rank waits for the others, which a
 * critical downcall over the heap would not. Calls are serialised (MPI_THREAD_SERIALIZED).
 *
 * <p>MPI is initialised once per process and cannot be again after it is finalised: {@link
 * Groups} owns the one instance; {@link #close} frees the staging buffer, {@link #finish} ends MPI
 * and {@link #abort} ends the whole job, both for the command line to call as the process ends.
 */
public final class MpiGroup implements Collectives {

    /** The most a heap buffer's copy takes at once: 64 MiB. */
    static final long STAGE_BYTES = 64L << 20;

    private final MpiLibrary mpi;
    private final MpiAbi abi;
    private final int rank, size;
    private final long maxCount;
    private Arena stageArena;
    private MemorySegment stage = MemorySegment.NULL;
    private boolean closed;

    private MpiGroup(MpiLibrary mpi, int rank, int size, long maxCount) {
        this.mpi = mpi;
        this.abi = mpi.abi;
        this.rank = rank;
        this.size = size;
        this.maxCount = maxCount;
    }

    /**
     * Initialises MPI and returns the world group, calls of at most {@code maxCount} elements
     * each (Integer.MAX_VALUE but for tests of the split). Refuses, in one line, when MPI's
     * initialisation replaced the JVM's SIGSEGV, SIGBUS or SIGFPE handler (UCX does unless told
     * not to); the JVM's are put back first, so that the process can still end cleanly.
     */
    static MpiGroup open(MpiLibrary mpi, int maxCount) {
        if (maxCount < 1) throw new IllegalArgumentException("maxCount " + maxCount + " < 1");
        SignalHandlers jvm = SignalHandlers.read(SignalHandlers.JVM_SIGNALS);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            mpi.check(mpi.initThread(MpiAbi.THREAD_SERIALIZED, out), "MPI_Init_thread");
            List<String> replaced = jvm.replaced();
            if (!replaced.isEmpty()) {
                jvm.restore();
                throw new UserError(mpi.abi.name() + " (" + mpi.file + ") replaced the JVM's " + String.join(", ", replaced)
                        + " handler at initialisation, which crashes Java (UCX does this): set UCX_ERROR_SIGNALS= (empty) and UCX_DEBUG_SIGNO=0"
                        + " in the environment of every rank (./gsae sets both unless they are set) and launch again");
            }
            if (out.get(JAVA_INT, 0) < MpiAbi.THREAD_SERIALIZED)
                throw new UserError(mpi.abi.name() + " (" + mpi.file + ") offers thread level " + out.get(JAVA_INT, 0)
                        + "; gsae needs MPI_THREAD_SERIALIZED (2) or more");
            long world = mpi.abi.world();
            mpi.check(mpi.commSetErrhandler(world, mpi.abi.errorsReturn()), "MPI_Comm_set_errhandler(MPI_ERRORS_RETURN)");
            mpi.check(mpi.commRank(world, out), "MPI_Comm_rank");
            int rank = out.get(JAVA_INT, 0);
            mpi.check(mpi.commSize(world, out), "MPI_Comm_size");
            return new MpiGroup(mpi, rank, out.get(JAVA_INT, 0), maxCount);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new MpiException("MPI could not be initialised through " + mpi.file + ": " + t);
        }
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
        return false;
    }

    /** Which MPI this is and where it was loaded from: "Open MPI (libmpi.so.40)". */
    public String describe() {
        return abi.name() + " (" + mpi.file + ")";
    }

    @Override
    public synchronized void allReduce(MemorySegment buf, ElementType type, ReduceOp op) {
        long n = count(buf, type);
        boolean direct = buf.isNative();
        long piece = direct ? maxCount : Math.min(maxCount, STAGE_BYTES / type.size);
        for (long at = 0; at < n; at += piece) {
            int c = (int) Math.min(piece, n - at);
            MemorySegment part = buf.asSlice(at * type.size, (long) c * type.size);
            MemorySegment mine = direct ? part : staged(part.byteSize()).copyFrom(part);
            int rc;
            try {
                rc = mpi.allreduce(abi.inPlace(), mine, c, abi.type(type), abi.op(op), abi.world());
            } catch (Throwable t) {
                throw failed("MPI_Allreduce", t);
            }
            mpi.check(rc, "MPI_Allreduce(" + c + " × " + type + ", " + op + ")");
            if (!direct) part.copyFrom(mine);
        }
    }

    @Override
    public synchronized void allGather(MemorySegment send, MemorySegment recv, ElementType type) {
        long n = count(send, type);
        Collectives.checkGather(send, recv, size);
        if (send.isNative() && recv.isNative() && n <= maxCount) {
            gather(send, recv, (int) n, type);
            return;
        }
        // In pieces through the staging buffer: [mine: c | everyone's: size × c], then each rank's
        // piece to its place in recv (rank r's elements start at r·n).
        long es = type.size;
        long piece = Math.max(1, Math.min(maxCount, STAGE_BYTES / es / (size + 1)));
        for (long at = 0; at < n; at += piece) {
            int c = (int) Math.min(piece, n - at);
            MemorySegment stage = staged((size + 1L) * c * es);
            MemorySegment mine = stage.asSlice(0, c * es), all = stage.asSlice(c * es, size * c * es);
            mine.copyFrom(send.asSlice(at * es, c * es));
            gather(mine, all, c, type);
            for (int r = 0; r < size; r++)
                MemorySegment.copy(all, (long) r * c * es, recv, ((long) r * n + at) * es, c * es);
        }
    }

    private void gather(MemorySegment send, MemorySegment recv, int c, ElementType type) {
        int rc;
        try {
            rc = mpi.allgather(send, c, abi.type(type), recv, c, abi.type(type), abi.world());
        } catch (Throwable t) {
            throw failed("MPI_Allgather", t);
        }
        mpi.check(rc, "MPI_Allgather(" + c + " × " + type + ")");
    }

    @Override
    public synchronized void broadcast(MemorySegment buf, ElementType type, int root) {
        Collectives.checkRoot(root, size);
        long n = count(buf, type);
        boolean direct = buf.isNative();
        long piece = direct ? maxCount : Math.min(maxCount, STAGE_BYTES / type.size);
        for (long at = 0; at < n; at += piece) {
            int c = (int) Math.min(piece, n - at);
            MemorySegment part = buf.asSlice(at * type.size, (long) c * type.size);
            MemorySegment mine = direct ? part : staged(part.byteSize());
            if (!direct && rank == root) mine.copyFrom(part);
            int rc;
            try {
                rc = mpi.bcast(mine, c, abi.type(type), root, abi.world());
            } catch (Throwable t) {
                throw failed("MPI_Bcast", t);
            }
            mpi.check(rc, "MPI_Bcast(" + c + " × " + type + " from rank " + root + ")");
            if (!direct && rank != root) part.copyFrom(mine);
        }
    }

    @Override
    public synchronized void barrier() {
        requireOpen();
        int rc;
        try {
            rc = mpi.barrier(abi.world());
        } catch (Throwable t) {
            throw failed("MPI_Barrier", t);
        }
        mpi.check(rc, "MPI_Barrier");
    }

    /** Frees the staging buffer; MPI itself stays up until {@link #finish}. */
    @Override
    public synchronized void close() {
        closed = true;
        if (stageArena != null) stageArena.close();
        stageArena = null;
        stage = MemorySegment.NULL;
    }

    /** MPI_Finalize, once, on every rank as it ends normally (a collective: every rank must call it). */
    synchronized void finish() {
        close();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment flag = arena.allocate(JAVA_INT);
            mpi.check(mpi.finalized(flag), "MPI_Finalized");
            if (flag.get(JAVA_INT, 0) == 0) mpi.check(mpi.finalizeMpi(), "MPI_Finalize");
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw failed("MPI_Finalize", t);
        }
    }

    /** MPI_Abort: ends every rank of the job with {@code code}; returns only if MPI could not. */
    void abort(int code) {
        try {
            mpi.abort(abi.world(), code);
        } catch (Throwable t) {
            throw failed("MPI_Abort", t);
        }
    }

    /** The element count of {@code buf}, once the group is known to be open. */
    private long count(MemorySegment buf, ElementType type) {
        requireOpen();
        return type.count(buf);
    }

    private void requireOpen() {
        if (closed) throw new IllegalStateException("the MPI group was closed");
    }

    /** The staging buffer, at least {@code bytes} long (grown as needed, never past what one piece needs). */
    private MemorySegment staged(long bytes) {
        if (stage.byteSize() < bytes) {
            if (stageArena != null) stageArena.close();
            stageArena = Arena.ofShared();
            stage = stageArena.allocate(bytes, 64);
        }
        return stage.asSlice(0, bytes);
    }

    private static MpiException failed(String call, Throwable t) {
        return new MpiException(call + " could not be called: " + t);
    }
}
