package gsae.comm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.util.EnumMap;
import java.util.Map;

/**
 * How one MPI library spells its handles, which mpi.h fixes at compile time and FFM must spell by
 * hand. Open MPI's MPI_Comm, MPI_Datatype, MPI_Op and MPI_Errhandler are pointers to predefined
 * global objects ({@code ompi_mpi_comm_world}, {@code ompi_mpi_float}, …), so a handle is that
 * symbol's address; MPICH's are {@code int} constants (values from MPICH 4's mpi.h, stable across
 * MPICH-ABI libraries: Intel MPI, MVAPICH). Handles travel as Java longs either way; {@link
 * MpiLibrary} narrows them to C ints for MPICH.
 *
 * @param name         the library family, for messages
 * @param intHandles   true when handles are C ints (MPICH), false when pointers (Open MPI)
 * @param world        MPI_COMM_WORLD
 * @param errorsReturn MPI_ERRORS_RETURN
 * @param inPlace      MPI_IN_PLACE, a sentinel address
 */
record MpiAbi(String name, boolean intHandles, long world, long errorsReturn, MemorySegment inPlace,
              Map<ElementType, Long> types, Map<ReduceOp, Long> ops) {

    /** MPI_THREAD_SERIALIZED in both families: any thread may call, one at a time. */
    static final int THREAD_SERIALIZED = 2;

    MpiAbi {
        types = Map.copyOf(types);
        ops = Map.copyOf(ops);
    }

    long type(ElementType t) {
        return types.get(t);
    }

    long op(ReduceOp o) {
        return ops.get(o);
    }

    /** Open MPI's ABI, read from the loaded library's symbols. */
    static MpiAbi openMpi(SymbolLookup lib) {
        Map<ElementType, Long> types = new EnumMap<>(ElementType.class);
        types.put(ElementType.F32, symbol(lib, "ompi_mpi_float"));
        types.put(ElementType.F64, symbol(lib, "ompi_mpi_double"));
        types.put(ElementType.I32, symbol(lib, "ompi_mpi_int32_t"));
        types.put(ElementType.I64, symbol(lib, "ompi_mpi_int64_t"));
        types.put(ElementType.U8, symbol(lib, "ompi_mpi_uint8_t"));
        Map<ReduceOp, Long> ops = new EnumMap<>(ReduceOp.class);
        ops.put(ReduceOp.SUM, symbol(lib, "ompi_mpi_op_sum"));
        ops.put(ReduceOp.MIN, symbol(lib, "ompi_mpi_op_min"));
        ops.put(ReduceOp.MAX, symbol(lib, "ompi_mpi_op_max"));
        return new MpiAbi("Open MPI", false, symbol(lib, "ompi_mpi_comm_world"), symbol(lib, "ompi_mpi_errors_return"),
                MemorySegment.ofAddress(1), types, ops);
    }

    /** MPICH's ABI: the constants of its mpi.h. */
    static MpiAbi mpich() {
        Map<ElementType, Long> types = new EnumMap<>(ElementType.class);
        types.put(ElementType.F32, 0x4c00040aL);
        types.put(ElementType.F64, 0x4c00080bL);
        types.put(ElementType.I32, 0x4c000439L);
        types.put(ElementType.I64, 0x4c00083aL);
        types.put(ElementType.U8, 0x4c00013bL);
        Map<ReduceOp, Long> ops = new EnumMap<>(ReduceOp.class);
        ops.put(ReduceOp.MAX, 0x58000001L);
        ops.put(ReduceOp.MIN, 0x58000002L);
        ops.put(ReduceOp.SUM, 0x58000003L);
        return new MpiAbi("MPICH", true, 0x44000000L, 0x54000001L, MemorySegment.ofAddress(-1L), types, ops);
    }

    /** True when {@code lib} is Open MPI (it defines the predefined communicator as a global object). */
    static boolean isOpenMpi(SymbolLookup lib) {
        return lib.find("ompi_mpi_comm_world").isPresent();
    }

    private static long symbol(SymbolLookup lib, String name) {
        return lib.find(name).orElseThrow(() -> new IllegalStateException("the Open MPI library has no symbol " + name)).address();
    }
}
